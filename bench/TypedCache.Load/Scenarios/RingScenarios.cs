using System.Diagnostics;
using TypedCache.Cluster;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>What node-kill and node-join share: the load, a ring change a third of the way in, and the figures of the change.</summary>
internal abstract class RingChangeScenario : Scenario
{
    public override bool NeedsOwnedServers => true;

    /// <summary>Changes the membership and returns the number of servers it should settle at and a way to undo the change afterwards.</summary>
    protected abstract Task<(int Members, Func<Task> Undo)> ChangeAsync(ScenarioContext context, ScenarioResult result, Measure.Timeline timeline);

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        var before = context.Cluster.Members.Select(m => new RingNode(m.Host, m.Port, m.Weight)).ToList();
        TimeSpan converged = TimeSpan.Zero;
        Func<Task> undo = () => Task.CompletedTask;
        var timeline = await context.RunLoadAsync(Name, context.Spec(LoadEngine.TypedCache), async (timeline, cancellationToken) =>
        {
            await context.UntilAsync(timeline, context.FaultAt);
            var clock = Stopwatch.StartNew();
            (int members, undo) = await ChangeAsync(context, result, timeline);
            await context.Cluster.WaitForMembersAsync(members, TimeSpan.FromSeconds(30), cancellationToken);
            converged = clock.Elapsed;
            result.Mark(timeline, "ring converged");
            context.Progress.Note($"{Name}: membership converged in {ScenarioResult.Ms(converged)}");
        });
        result.Timeline = timeline;
        var after = context.Cluster.Members.Select(m => new RingNode(m.Host, m.Port, m.Weight)).ToList();
        var totals = timeline.Totals();
        result.Verdicts.Add(new Verdict("caller exceptions", totals.Errors, 0, "operations of the workers that threw to their caller during the whole run"));
        result.Figure("time until the membership (and so every ring) converged", ScenarioResult.Ms(converged));
        result.Figure("keys moved", ScenarioResult.Percent(KeysMoved(context, before, after)));
        result.Figure("throughput", ScenarioResult.Number(totals.OperationsPerSecond) + " ops/s");
        result.Figure("p50 / p99", $"{ScenarioResult.Ms(totals.P50)} / {ScenarioResult.Ms(totals.P99)}");
        result.Figure("hit ratio", ScenarioResult.Percent(totals.HitRatio));
        await undo();
        await context.Cluster.WaitForMembersAsync(before.Count, TimeSpan.FromSeconds(60), context.CancellationToken);
        return result;
    }

    /// <summary>The share of the run's keys whose server differs between the two rings.</summary>
    private static double KeysMoved(ScenarioContext context, IReadOnlyList<RingNode> before, IReadOnlyList<RingNode> after)
    {
        var from = KetamaRing.Create(before);
        var to = KetamaRing.Create(after);
        int moved = 0;
        for (int key = 0; key < context.Settings.Keys; key++)
        {
            string name = "tc:Item:0:" + key.ToString(System.Globalization.CultureInfo.InvariantCulture);
            from.TryGetNode(name, out var a);
            to.TryGetNode(name, out var b);
            if (a?.Endpoint != b?.Endpoint)
                moved++;
        }
        return (double)moved / context.Settings.Keys;
    }
}

/// <summary><c>node-kill</c>: SIGKILL one of three memcached servers under load; its keys go to the loader, no caller sees an exception.</summary>
internal sealed class NodeKillScenario : RingChangeScenario
{
    public override string Name => "node-kill";

    public override string Description =>
        "Under the load, one of the three memcached servers is killed (SIGKILL) a third of the way in; its registrar removes its znode and every client's ring follows. It is restarted after the run.";

    protected override async Task<(int Members, Func<Task> Undo)> ChangeAsync(ScenarioContext context, ScenarioResult result, Measure.Timeline timeline)
    {
        var victim = context.Cluster.Memcached[0];
        await victim.KillAsync();
        result.Mark(timeline, "memcached killed");
        context.Progress.Note($"node-kill: killed memcached {victim.Endpoint}");
        return (context.Cluster.Memcached.Count - 1, () => context.Cluster.RestartMemcachedAsync(victim, context.CancellationToken));
    }
}

/// <summary><c>node-join</c>: a fourth memcached server joins under load; about a quarter of the keys move.</summary>
internal sealed class NodeJoinScenario : RingChangeScenario
{
    public override string Name => "node-join";

    public override string Description =>
        "Under the load, a fourth memcached server is started and registered a third of the way in; every client's ring takes it in. It leaves after the run.";

    protected override async Task<(int Members, Func<Task> Undo)> ChangeAsync(ScenarioContext context, ScenarioResult result, Measure.Timeline timeline)
    {
        int members = context.Cluster.Members.Count + 1;
        var joined = await context.Cluster.AddMemcachedAsync(context.CancellationToken);
        result.Mark(timeline, "memcached joined");
        context.Progress.Note($"node-join: started memcached {joined.Endpoint}");
        return (members, () => context.Cluster.RemoveMemcachedAsync(joined));
    }
}
