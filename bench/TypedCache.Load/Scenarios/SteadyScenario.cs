using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>steady</c>: the mix at full speed with no fault. Figures: throughput, latency percentiles, hit ratio, and ratios
/// to the peers measured like for like: TypedCache with ZooKeeper against FusionCache with its Redis backplane (both
/// drop a changed key from every process's L1), TypedCache without ZooKeeper against FusionCache and HybridCache on
/// Redis alone (each process's L1 only sees its own changes). Verdicts: no caller sees an exception, and no operation
/// stalls.
/// </summary>
internal sealed class SteadyScenario : Scenario
{
    /// <summary>The peers without a backplane, measured side by side with TypedCache (here and in <c>stampede</c>).</summary>
    internal static readonly (LoadEngine Engine, string Name)[] Peers = [(LoadEngine.FusionCache, "FusionCache 2.9 + Redis"), (LoadEngine.HybridCache, "HybridCache + Redis")];

    private const string Typed = "TypedCache (memcached ×3 + ZooKeeper)";
    private const string TypedAlone = "TypedCache (memcached ×3, no ZooKeeper)";
    private const string FusionBackplane = "FusionCache 2.9 + Redis + backplane";

    public override string Name => "steady";

    public override string Description =>
        "The read/write/invalidate mix on a Zipf key distribution, no fault, compared like for like. With ZooKeeper, TypedCache drops every written or " +
        "invalidated key from every other process's L1 (and, when the event comes back, from its own), so a hot key is re-read from memcached after " +
        "each change anywhere; its peer there is FusionCache with its Redis backplane, which does the same for the other instances. FusionCache and " +
        "HybridCache on Redis alone keep a key in a process's memory until that process changes it (another process's write stays unseen until the " +
        "entry expires); their peer is TypedCache on the same memcached servers without ZooKeeper.";

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var typed = await context.RunLoadAsync(Name, context.Spec(LoadEngine.TypedCache));
        result.Timeline = typed;
        var totals = typed.Totals();
        result.Peers.Add(new PeerRun(Typed, totals));
        AddFigures(result, totals);
        long errors = totals.Errors, stalled = totals.Stalled;
        if (context.Settings.Peers)
        {
            await context.RedisAsync();
            var fusionBackplane = await RunAsync(context, context.Spec(LoadEngine.FusionCacheBackplane));
            result.Peers.Add(new PeerRun(FusionBackplane, fusionBackplane));
            Compare(result, $"vs {FusionBackplane} (both keep every L1 coherent)", totals, fusionBackplane);

            var alone = await RunAsync(context, context.Spec(LoadEngine.TypedCache) with
            {
                ZooKeeper = null,
                Memcached = [.. context.Cluster.Members.Select(m => $"{m.Host}:{m.Port}")],
            });
            result.Peers.Add(new PeerRun(TypedAlone, alone));
            errors += alone.Errors;
            stalled += alone.Stalled;
            foreach (var (engine, name) in Peers)
            {
                var peer = await RunAsync(context, context.Spec(engine));
                result.Peers.Add(new PeerRun(name, peer));
                Compare(result, $"without ZooKeeper vs {name} (neither keeps L1s coherent)", alone, peer);
                if (engine == LoadEngine.FusionCache)
                {
                    result.Figure("throughput kept with coherent L1s (with / without): TypedCache, ZooKeeper", Ratio(totals.OperationsPerSecond, alone.OperationsPerSecond));
                    result.Figure("throughput kept with coherent L1s (with / without): FusionCache, backplane", Ratio(fusionBackplane.OperationsPerSecond, peer.OperationsPerSecond));
                }
            }
        }
        result.Verdicts.Add(new Verdict("caller exceptions", errors, 0, "operations that threw to their caller (TypedCache with and without ZooKeeper)"));
        result.Verdicts.Add(new Verdict("stalled operations", stalled, 0,
            $"operations that took {IntervalMeter.StallBound.TotalSeconds:0} s or more, or had waited that long when the phase stopped (TypedCache with and without ZooKeeper; no fault is injected)"));
        return result;
    }

    private async Task<TimelineTotals> RunAsync(ScenarioContext context, WorkerSpec spec) => (await context.RunLoadAsync(Name, spec)).Totals();

    private static void Compare(ScenarioResult result, string what, TimelineTotals ours, TimelineTotals theirs)
    {
        result.Figure($"throughput {what}", Ratio(ours.OperationsPerSecond, theirs.OperationsPerSecond));
        result.Figure($"p99 {what}", Ratio(ours.P99, theirs.P99));
    }

    private static void AddFigures(ScenarioResult result, TimelineTotals totals)
    {
        result.Figure("operations", ScenarioResult.Number(totals.Operations));
        result.Figure("throughput", ScenarioResult.Number(totals.OperationsPerSecond) + " ops/s");
        result.Figure("p50 / p90 / p99 / p99.9", $"{ScenarioResult.Ms(totals.P50)} / {ScenarioResult.Ms(totals.P90)} / {ScenarioResult.Ms(totals.P99)} / {ScenarioResult.Ms(totals.P999)}");
        result.Figure("writes and invalidations p50 / p99", $"{ScenarioResult.Ms(totals.WriteP50)} / {ScenarioResult.Ms(totals.WriteP99)}");
        result.Figure("hit ratio", ScenarioResult.Percent(totals.HitRatio));
    }

    internal static string Ratio(double ours, double theirs) =>
        theirs <= 0 ? "n/a" : (ours / theirs).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "×";
}
