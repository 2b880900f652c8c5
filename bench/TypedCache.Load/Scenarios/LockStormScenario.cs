using System.Diagnostics;
using TypedCache.Load.Measure;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>lock-storm</c>: many holders in several services (each its own ZooKeeper session) take the ZooKeeper lock of
/// a few keys as fast as they can. Inside the lock each holder marks the key held and checks nobody else has.
/// Verdict: no overlap. Figures: acquisitions per second, wait percentiles, timeouts.
/// </summary>
internal sealed class LockStormScenario : Scenario
{
    private const int Services = 4;
    private const int HoldersPerService = 4;
    private const int Keys = 2;
    private const int FirstKey = 3_000_000;

    public override string Name => "lock-storm";

    public override string Description =>
        $"{Services} services × {HoldersPerService} holders take the lock of one of {Keys} keys, mark it held, yield, and release, as fast as they can. An overlap is a holder finding the key already held.";

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var services = Enumerable.Range(0, Services).Select(_ => context.OpenClient()).ToList();
        try
        {
            var held = new int[Keys];
            long overlaps = 0, timeouts = 0, acquisitions = 0;
            var load = new InProcessLoad(context, Name, "TypedCache");
            var (meter, stop) = (load.Meter, load.Stop);
            result.Timeline = load.Timeline;
            await using (load)
            {
                await Task.WhenAll(services.SelectMany((service, s) => Enumerable.Range(0, HoldersPerService).Select(h => Task.Run(async () =>
                {
                    int k = (s + h) % Keys;
                    while (!stop.IsCancellationRequested)
                    {
                        long started = Stopwatch.GetTimestamp();
                        try
                        {
                            await using (await service.Items.LockAsync(FirstKey + k, TimeSpan.FromSeconds(10), stop))
                            {
                                meter.Record(started, OperationKind.Lock);
                                Interlocked.Increment(ref acquisitions);
                                if (Interlocked.Increment(ref held[k]) > 1)
                                    Interlocked.Increment(ref overlaps);
                                await Task.Yield();
                                Interlocked.Decrement(ref held[k]);
                            }
                        }
                        catch (TimeoutException)
                        {
                            Interlocked.Increment(ref timeouts);
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            return;
                        }
                        catch (Exception e)
                        {
                            meter.Fail(e);
                        }
                    }
                }))));
            }
            var totals = load.Timeline.Totals();
            result.Verdicts.Add(new Verdict("overlaps", overlaps, 0, "times a holder found its key already held by another holder"));
            result.Verdicts.Add(new Verdict("lock errors", totals.Errors, 0, "lock calls that threw anything but a timeout"));
            result.Figure("acquisitions", ScenarioResult.Number(acquisitions));
            result.Figure("acquisitions per second", ScenarioResult.Number(totals.OperationsPerSecond));
            result.Figure("wait p50 / p99", $"{ScenarioResult.Ms(totals.P50)} / {ScenarioResult.Ms(totals.P99)}");
            result.Figure("timeouts (10 s)", ScenarioResult.Number(timeouts));
            return result;
        }
        finally
        {
            foreach (var service in services)
                await service.DisposeAsync();
        }
    }
}
