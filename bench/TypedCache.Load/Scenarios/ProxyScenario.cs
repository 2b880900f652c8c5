using System.Diagnostics;
using TypedCache.Load.Measure;
using TypedCache.Load.Proxies;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>proxy</c>: TypedCache's memcached-protocol proxy (its ring from the run's ZooKeeper membership, placed as
/// twemproxy places keys) and nutcracker (twemproxy 0.5, ketama over the same three memcached servers), each in a
/// process of its own, take the same get/set load at the same time; one memcached server is killed halfway. Figures:
/// throughput, p50/p99 and CPU per request of each before the kill and their ratios, what callers get from each after
/// it. Verdicts: no value read through either proxy is wrong, TypedCache's proxy gives its callers no error (a down
/// node's keys miss), and a key stored through one proxy is found through the other (the same ring).
/// </summary>
internal sealed class ProxyScenario : Scenario
{
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(30);

    public override string Name => "proxy";

    public override string Description =>
        "TypedCache's proxy (ring from ZooKeeper membership, twemproxy placement, down nodes' keys miss) and nutcracker (ketama, md5, timeout 1000, no auto-eject, as bench/proxy.sh; over the same 3 memcached) each take the same get/set mix on a Zipf key set "
        + "(the read share of --mix is gets, the rest sets; --workers × --concurrency connections each), both at once; one memcached server is killed (SIGKILL) halfway. It is restarted after the run.";

    public override bool NeedsOwnedServers => true;

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var cluster = context.Cluster;
        var settings = context.Settings;
        var cancellationToken = context.CancellationToken;
        int callers = settings.Workers * settings.Concurrency;
        int fillConnections = Math.Min(callers, 8);
        string run = "proxy-" + Guid.NewGuid().ToString("N")[..8] + ":";
        var victim = cluster.Memcached[0];
        try
        {
            await using var typed = await ProxyProcess.StartTypedCacheAsync(cluster.ZooKeeperConnect, cluster.Root, cancellationToken);
            context.Log.Add(typed.ProcessId, $"TypedCache proxy 127.0.0.1:{typed.Port}");
            await using var nutcracker = await ProxyProcess.StartNutcrackerAsync([.. cluster.Memcached.Select(m => m.Endpoint)], cancellationToken);
            context.Log.Add(nutcracker.ProcessId, $"nutcracker 127.0.0.1:{nutcracker.Port}");
            context.Progress.Note($"proxy: TypedCache proxy on port {typed.Port}, nutcracker on port {nutcracker.Port}");

            ProxyLoad[] loads = [new(typed, run + "t:", settings.Keys), new(nutcracker, run + "n:", settings.Keys)];
            foreach (var load in loads)
                await load.FillAsync(fillConnections, cancellationToken);
            int found = await loads[1].FindAsync(loads[0], fillConnections, cancellationToken) + await loads[0].FindAsync(loads[1], fillConnections, cancellationToken);

            var cpuBefore = loads.Select(l => l.Proxy.CpuTime).ToArray();
            TimeSpan? membership = null;
            Timeline typedTimeline, nutcrackerTimeline;
            await using (var nutcrackerLoad = new InProcessLoad(context, Name, nutcracker.Name))
            await using (var typedLoad = new InProcessLoad(context, Name, typed.Name))
            {
                var fault = Task.Run(async () =>
                {
                    await context.UntilAsync(typedLoad.Timeline, context.Duration / 2);
                    await victim.KillAsync();
                    foreach (var load in loads)
                        load.StartAfterPhase();
                    result.Mark(typedLoad.Timeline, "memcached killed");
                    context.Progress.Note($"proxy: killed memcached {victim.Endpoint}");
                    var clock = Stopwatch.StartNew();
                    await cluster.WaitForMembersAsync(cluster.Memcached.Count - 1, MembershipTimeout, cancellationToken);
                    membership = clock.Elapsed;
                    result.Mark(typedLoad.Timeline, "membership without it");
                }, cancellationToken);
                await Task.WhenAll(
                    loads[0].RunAsync(callers, settings.Mix, settings.ZipfExponent, settings.MaxOperations, settings.Seed, typedLoad.Meter, typedLoad.Stop, cancellationToken),
                    loads[1].RunAsync(callers, settings.Mix, settings.ZipfExponent, settings.MaxOperations, settings.Seed, nutcrackerLoad.Meter, nutcrackerLoad.Stop, cancellationToken),
                    fault);
                typedTimeline = typedLoad.Timeline;
                nutcrackerTimeline = nutcrackerLoad.Timeline;
            }
            var cpu = loads.Select((l, i) => l.Proxy.CpuTime - cpuBefore[i]).ToArray();

            result.Timeline = typedTimeline;
            result.Peers.Add(new PeerRun(typed.Name, typedTimeline.Totals()));
            result.Peers.Add(new PeerRun(nutcracker.Name, nutcrackerTimeline.Totals()));
            AddFigures(result, loads, cpu, found, settings.Keys, membership);
            AddVerdicts(result, loads, 2 * settings.Keys - found);
            return result;
        }
        finally
        {
            if (!victim.IsRunning)
            {
                await cluster.RestartMemcachedAsync(victim, cancellationToken);
                await cluster.WaitForMembersAsync(cluster.Memcached.Count, TimeSpan.FromSeconds(60), cancellationToken);
            }
        }
    }

    private static void AddFigures(ScenarioResult result, ProxyLoad[] loads, TimeSpan[] cpu, int found, int keys, TimeSpan? membership)
    {
        var (typed, nutcracker) = (loads[0].Phases[0], loads[1].Phases[0]);
        var cpuPerRequest = loads.Select((l, i) => cpu[i].TotalMilliseconds / Math.Max(1, l.Phases.Sum(p => p.Operations + p.Errors))).ToArray();
        result.Figure("throughput before the kill, TypedCache proxy / nutcracker", SteadyScenario.Ratio(typed.OperationsPerSecond, nutcracker.OperationsPerSecond));
        result.Figure("p50 before the kill, TypedCache proxy / nutcracker", SteadyScenario.Ratio(typed.Latency.Percentile(0.5), nutcracker.Latency.Percentile(0.5)));
        result.Figure("p99 before the kill, TypedCache proxy / nutcracker", SteadyScenario.Ratio(typed.Latency.Percentile(0.99), nutcracker.Latency.Percentile(0.99)));
        result.Figure("CPU per request, TypedCache proxy / nutcracker", SteadyScenario.Ratio(cpuPerRequest[0], cpuPerRequest[1]));
        result.Figure("same ring: keys stored through one proxy and found through the other", ScenarioResult.Percent((double)found / (2 * keys)));
        foreach (var (load, i) in loads.Select((l, i) => (l, i)))
        {
            var (before, after) = (load.Phases[0], load.Phases[1]);
            string name = load.Proxy.Name;
            result.Figure($"{name} before the kill: throughput, p50 / p99",
                $"{ScenarioResult.Number(before.OperationsPerSecond)} ops/s, {ScenarioResult.Ms(before.Latency.Percentile(0.5))} / {ScenarioResult.Ms(before.Latency.Percentile(0.99))}");
            result.Figure($"{name} CPU per request (user + system)", ScenarioResult.Ms(cpuPerRequest[i]));
            result.Figure($"{name} after the kill: errors / misses / not stored, of operations",
                $"{ScenarioResult.Number(after.Errors)} / {ScenarioResult.Number(after.Misses)} / {ScenarioResult.Number(after.NotStored)}, of {ScenarioResult.Number(after.Operations + after.Errors)}");
            if (load.ErrorMessages.Count > 0)
                result.Figure($"{name} errors", string.Join("; ", load.ErrorMessages));
        }
        result.Figure("membership without the killed server (TypedCache's proxy's ring follows it)", membership is { } m ? ScenarioResult.Ms(m) : "not within the run");
    }

    private static void AddVerdicts(ScenarioResult result, ProxyLoad[] loads, int notFound)
    {
        result.Verdicts.Add(new Verdict("keys not found through the other proxy", notFound, 0,
            "before the load, every key is stored through each proxy (in a namespace of each) and read through the other: both place keys on the same ketama ring (md5, the same 3 servers, weight 1), so a key the other misses or answers differently is one the rings disagree on"));
        foreach (var load in loads)
        {
            result.Verdicts.Add(new Verdict($"wrong values through {load.Proxy.Name}", load.WrongValues, 0,
                "gets that returned another key's value, a value this load never wrote, or a version older than the last one stored before the get began or newer than the last one sent before it ended"
                + (load.WrongExamples.Count > 0 ? ": " + string.Join("; ", load.WrongExamples) : "")));
        }
        result.Verdicts.Add(new Verdict("caller errors through TypedCache proxy", loads[0].Phases.Sum(p => p.Errors), 0,
            "gets and sets answered with an error line, a closed connection or no reply within 5 s, over the whole run: a killed node's keys must miss or be not stored"));
    }
}
