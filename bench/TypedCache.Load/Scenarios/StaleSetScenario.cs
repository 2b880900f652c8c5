using System.Diagnostics;
using TypedCache.Load.Measure;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>stale-set</c>: the race of "Scaling Memcache at Facebook". A writer service bumps a key's version in a
/// source-of-truth map and invalidates the key; reader services (L1 off, so only memcached and its leases stand
/// between them and the truth) read with a loader that reads the truth and then stalls, so loads that began before an
/// invalidation finish after it. Verdict: a read that started after the invalidation of version v returned never
/// returns a version older than v. Every reader reads every key, so reads also join their service's read-throughs in
/// flight, including ones that began before another service's invalidation whose event has not arrived yet: such a
/// read takes the flight's value only when memcached confirmed it.
/// </summary>
internal sealed class StaleSetScenario : Scenario
{
    private const int Keys = 16;
    private const int FirstKey = 4_000_000;
    private const int ReaderServices = 2;
    private const int ReadersPerService = 8;

    public override string Name => "stale-set";

    public override string Description =>
        $"One writer bumps and invalidates {Keys} hot keys; {ReaderServices} reader services × {ReadersPerService} readers (L1 off) read all of them through a stalling loader, joining each other's read-throughs in flight. A stale read is one that started after the invalidation of version v returned and still got a version below v.";

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var truth = new long[Keys];
        var invalidated = new long[Keys];
        long stale = 0, reads = 0, loads = 0, invalidations = 0;
        await using var writer = context.OpenClient();
        var readers = Enumerable.Range(0, ReaderServices).Select(_ => context.OpenClient(localCacheMaxEntries: 0)).ToList();
        try
        {
            var load = new InProcessLoad(context, Name, "TypedCache");
            var (meter, stop) = (load.Meter, load.Stop);
            result.Timeline = load.Timeline;
            await using (load)
            {
                var writing = Task.Run(async () =>
                {
                    var random = new Random(context.Settings.Seed);
                    while (!stop.IsCancellationRequested)
                    {
                        int k = random.Next(Keys);
                        long version = Interlocked.Increment(ref truth[k]);
                        long started = Stopwatch.GetTimestamp();
                        try
                        {
                            await writer.Items.InvalidateAsync(FirstKey + k, CancellationToken.None);
                            meter.Record(started, OperationKind.Invalidate);
                            InterlockedMax(ref invalidated[k], version);
                            Interlocked.Increment(ref invalidations);
                        }
                        catch (Exception e)
                        {
                            meter.Fail(e);
                        }
                        await Task.Delay(2, CancellationToken.None);
                    }
                });
                var reading = readers.SelectMany((reader, service) => Enumerable.Range(0, ReadersPerService).Select(i => Task.Run(async () =>
                {
                    var random = new Random(context.Settings.Seed + 1 + (service * ReadersPerService) + i);
                    while (!stop.IsCancellationRequested)
                    {
                        int k = random.Next(Keys);
                        long floor = Volatile.Read(ref invalidated[k]);
                        long started = Stopwatch.GetTimestamp();
                        bool loaded = false;
                        try
                        {
                            var item = await reader.Items.GetOrLoadAsync(FirstKey + k, async (id, ct) =>
                            {
                                loaded = true;
                                Interlocked.Increment(ref loads);
                                long version = Volatile.Read(ref truth[k]);
                                await Task.Delay(random.Next(1, 6), ct);
                                return new Item(id, version, "");
                            }, CancellationToken.None);
                            meter.Record(started, OperationKinds.Read(hit: !loaded));
                            Interlocked.Increment(ref reads);
                            if (item is null || item.Version < floor)
                                Interlocked.Increment(ref stale);
                        }
                        catch (Exception e)
                        {
                            meter.Fail(e);
                        }
                    }
                })));
                await Task.WhenAll([writing, .. reading]);
            }
            var totals = load.Timeline.Totals();
            result.Verdicts.Add(new Verdict("stale reads", stale, 0, "reads that started after the invalidation of version v returned and got a version below v"));
            result.Verdicts.Add(new Verdict("caller exceptions", totals.Errors, 0, "reads and invalidations that threw to their caller"));
            result.Figure("reads", ScenarioResult.Number(reads));
            result.Figure("invalidations", ScenarioResult.Number(invalidations));
            result.Figure("loader calls", ScenarioResult.Number(loads));
            result.Figure("read p50 / p99", $"{ScenarioResult.Ms(totals.P50)} / {ScenarioResult.Ms(totals.P99)}");
            return result;
        }
        finally
        {
            foreach (var reader in readers)
                await reader.DisposeAsync();
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
