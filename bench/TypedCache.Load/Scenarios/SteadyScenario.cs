using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>steady</c>: the mix at full speed with no fault. Figures: throughput, latency percentiles, hit ratio; the same
/// load on FusionCache + Redis and HybridCache + Redis gives the ratios. Verdict: no caller sees an exception.
/// </summary>
internal sealed class SteadyScenario : Scenario
{
    /// <summary>The peers measured side by side with TypedCache.</summary>
    internal static readonly (LoadEngine Engine, string Name)[] Peers = [(LoadEngine.FusionCache, "FusionCache 2.9 + Redis"), (LoadEngine.HybridCache, "HybridCache + Redis")];

    public override string Name => "steady";

    public override string Description =>
        "The read/write/invalidate mix on a Zipf key distribution, no fault. TypedCache's writes and invalidations also reach every other service's L1 through ZooKeeper; the peers run without a backplane, so theirs only touch Redis and their own memory level.";

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var typed = await context.RunLoadAsync(Name, context.Spec(LoadEngine.TypedCache));
        result.Timeline = typed;
        var totals = typed.Totals();
        result.Peers.Add(new PeerRun("TypedCache (memcached ×3 + ZooKeeper)", totals));
        AddFigures(result, totals);
        result.Verdicts.Add(new Verdict("caller exceptions", totals.Errors, 0, "operations that threw to their caller"));
        if (context.Settings.Peers)
        {
            await context.RedisAsync();
            foreach (var (engine, name) in Peers)
            {
                var peer = (await context.RunLoadAsync(Name, context.Spec(engine))).Totals();
                result.Peers.Add(new PeerRun(name, peer));
                result.Figure($"throughput vs {name}", Ratio(totals.OperationsPerSecond, peer.OperationsPerSecond));
                result.Figure($"p99 vs {name}", Ratio(totals.P99, peer.P99));
            }
        }
        return result;
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
