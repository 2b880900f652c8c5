using System.Diagnostics;
using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>stampede</c>: rounds of many concurrent misses on a few hot keys from several services (cache clients with
/// their own connections and ZooKeeper sessions), each round after the keys were invalidated everywhere, with a
/// 20 ms loader. Figure: loader calls per hot key per round; TypedCache's leases make one load cluster-wide, the
/// peers (no distributed lock) one per service. The TypedCache services run without their in-process level so that
/// every round is a miss in every service, as it is for the peers after their removals.
/// </summary>
internal sealed class StampedeScenario : Scenario
{
    private const int Services = 4;
    private const int CallersPerService = 25;
    private const int HotKeys = 8;
    private const int FirstKey = 2_000_000;
    private const int MaxRounds = 500;

    public override string Name => "stampede";

    public override string Description =>
        $"{Services} services × {CallersPerService} concurrent callers miss the same {HotKeys} hot keys at once, round after round (a 20 ms loader); TypedCache's services have L1 off so each round misses everywhere.";

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var typed = await RunEngineAsync(context, LoadEngine.TypedCache, result);
        result.Timeline = typed.Timeline;
        result.Peers.Add(new PeerRun("TypedCache (memcached leases)", typed.Timeline.Totals()));
        result.Figure("loader calls per hot key per round", ScenarioResult.Number(typed.PerKeyRound, "0.00"));
        result.Figure("rounds", ScenarioResult.Number(typed.Rounds));
        result.Verdicts.Add(new Verdict("extra loader calls", typed.Extra, 0, "loader calls beyond one per hot key per round, summed over the rounds"));
        result.Verdicts.Add(new Verdict("caller exceptions", typed.Timeline.Totals().Errors, 0, "reads that threw to their caller"));
        if (context.Settings.Peers)
        {
            await context.RedisAsync();
            foreach (var (engine, name) in SteadyScenario.Peers)
            {
                var peer = await RunEngineAsync(context, engine, result);
                result.Peers.Add(new PeerRun(name, peer.Timeline.Totals()));
                result.Figure($"loader calls per hot key per round, {name}", ScenarioResult.Number(peer.PerKeyRound, "0.00"));
                result.Figure($"loader calls vs {name}", SteadyScenario.Ratio(typed.PerKeyRound, peer.PerKeyRound));
            }
        }
        return result;
    }

    private static async Task<(Timeline Timeline, double PerKeyRound, long Extra, int Rounds)> RunEngineAsync(ScenarioContext context, LoadEngine engine, ScenarioResult result)
    {
        var spec = context.Spec(engine) with { LocalCacheMaxEntries = 0, LoaderDelayMilliseconds = 20 };
        var services = new List<ILoadTarget>();
        try
        {
            for (int i = 0; i < Services; i++)
            {
                services.Add(LoadTargets.Create(spec));
                await services[^1].ReadAsync(FirstKey - 1, context.CancellationToken);
            }
            long loads = 0, extra = 0;
            int rounds = 0;
            var load = new InProcessLoad(context, "stampede", engine.ToString());
            var meter = load.Meter;
            await using (load)
            {
                while (!load.Stop.IsCancellationRequested && rounds < MaxRounds)
                {
                    for (int key = FirstKey; key < FirstKey + HotKeys; key++)
                    {
                        foreach (var service in engine == LoadEngine.TypedCache ? services.Take(1) : services)
                            await service.InvalidateAsync(key, context.CancellationToken);
                    }
                    var counts = new int[HotKeys];
                    await Task.WhenAll(Enumerable.Range(0, Services * CallersPerService).SelectMany(caller => Enumerable.Range(0, HotKeys).Select(k => Task.Run(async () =>
                    {
                        long started = Stopwatch.GetTimestamp();
                        try
                        {
                            bool hit = await services[caller % Services].ReadAsync(FirstKey + k, context.CancellationToken);
                            if (!hit)
                                Interlocked.Increment(ref counts[k]);
                            meter.Record(started, OperationKinds.Read(hit));
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            meter.Fail(e);
                        }
                    }))));
                    rounds++;
                    loads += counts.Sum();
                    extra += counts.Sum(c => Math.Max(0, c - 1));
                }
            }
            return (load.Timeline, rounds == 0 ? 0 : (double)loads / (rounds * HotKeys), extra, rounds);
        }
        finally
        {
            foreach (var service in services)
                await service.DisposeAsync();
        }
    }
}
