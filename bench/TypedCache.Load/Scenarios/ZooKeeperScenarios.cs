using System.Diagnostics;
using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// What zk-leader-kill, zk-down and partition share: the workers' load, an invalidation probe between two services,
/// a fault a third of the way in, and afterwards the count of invalidations lost, the time to recover and the cache's
/// availability during the fault.
/// </summary>
internal abstract class InvalidationFaultScenario : Scenario
{
    protected const int FirstProbeKey = 5_000_000;
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    public override bool NeedsOwnedServers => true;

    /// <summary>Opens the probe's two services (and whatever the fault needs); disposed after the run.</summary>
    protected abstract Task<ProbeSetup> SetUpAsync(ScenarioContext context);

    /// <summary>Injects the fault, waits, heals it; returns the instant (Unix ms) the fault began and the one it was healed.</summary>
    protected abstract Task<(long Began, long Healed)> FaultAsync(ScenarioContext context, ProbeSetup setup, ScenarioResult result, Timeline timeline);

    public override async Task<ScenarioResult> RunAsync(ScenarioContext context)
    {
        var result = new ScenarioResult(Name, Description);
        await using var setup = await SetUpAsync(context);
        var probe = setup.Probe;
        TimeSpan recovered = TimeSpan.Zero;
        long began = 0, healed = 0, back = 0;
        var timeline = await context.RunLoadAsync(Name, context.Spec(LoadEngine.TypedCache), async (timeline, cancellationToken) =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var probing = probe.RunAsync(stop.Token);
            var extra = setup.During?.Invoke(stop.Token) ?? Task.CompletedTask;
            await context.UntilAsync(timeline, context.FaultAt);
            (began, healed) = await FaultAsync(context, setup, result, timeline);
            recovered = await probe.RoundTripAsync(SettleTimeout, cancellationToken);
            back = Now();
            result.Mark(timeline, "invalidations flow again");
            context.Progress.Note($"{Name}: invalidations reach the other service again {ScenarioResult.Ms(TimeSpan.FromMilliseconds(back - healed))} after the heal");
            await context.UntilAsync(timeline, context.Duration);
            await stop.CancelAsync();
            await Task.WhenAll(probing, extra);
        });
        result.Timeline = timeline;
        int lost = await probe.CountLostAsync(SettleTimeout, context.CancellationToken);
        var before = timeline.Between(timeline.StartedAt, began);
        var during = timeline.Between(began, back);
        var totals = timeline.Totals();
        result.Verdicts.Add(new Verdict("invalidations lost", lost, 0,
            $"probe keys whose latest invalidation (of {probe.Invalidations} sent, {probe.InvalidateErrors} of them failed to the caller) never reached the other service's L1 within {SettleTimeout.TotalSeconds:0} s of the run's end"));
        foreach (var verdict in setup.Verdicts())
            result.Verdicts.Add(verdict);
        result.Figure("time from the heal until invalidations reach the other service", ScenarioResult.Ms(TimeSpan.FromMilliseconds(back - healed)));
        result.Figure("time from the fault until invalidations reach the other service", ScenarioResult.Ms(TimeSpan.FromMilliseconds(back - began)));
        result.Figure("cache availability during the fault (workers)", ScenarioResult.Percent(during.Operations + during.Errors == 0 ? 1 : (double)during.Operations / (during.Operations + during.Errors)));
        result.Figure("worker throughput during the fault / before it", SteadyScenario.Ratio(
            during.Operations / Math.Max(0.001, (back - began) / 1000.0), before.Operations / Math.Max(0.001, (began - timeline.StartedAt) / 1000.0)));
        result.Figure("worker operations during the fault", ScenarioResult.Number(during.Operations));
        result.Figure("worker caller exceptions (whole run)", ScenarioResult.Number(totals.Errors) + (totals.ErrorMessages.Count > 0 ? $" (first: {totals.ErrorMessages[0]})" : ""));
        result.Figure("probe reads in the other service that threw", $"{ScenarioResult.Number(probe.ReadErrors)} of {ScenarioResult.Number(probe.Reads + probe.ReadErrors)}");
        result.Figure("probe invalidations that threw", ScenarioResult.Number(probe.InvalidateErrors) + (probe.FirstError is { } error ? $" (first: {error})" : ""));
        result.Figure("throughput", ScenarioResult.Number(totals.OperationsPerSecond) + " ops/s");
        foreach (var figure in setup.Figures())
            result.Figures.Add(figure);
        await setup.AfterAsync(context);
        return result;
    }

    protected static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    protected static IReadOnlyList<int> ProbeKeys(int count) => [.. Enumerable.Range(FirstProbeKey, count)];

    /// <summary>The probe's services and what else a fault needs, disposed together.</summary>
    protected sealed class ProbeSetup(LoadCache writer, LoadCache reader, IReadOnlyList<int> keys) : IAsyncDisposable
    {
        public InvalidationProbe Probe { get; } = new(writer, reader, keys);

        /// <summary>Extra load on the probe's services while the run lasts.</summary>
        public Func<CancellationToken, Task>? During { get; init; }

        public Func<IEnumerable<Verdict>> Verdicts { get; init; } = () => [];

        public Func<IEnumerable<Figure>> Figures { get; init; } = () => [];

        /// <summary>Puts the cluster back as it was before the scenario.</summary>
        public Func<ScenarioContext, Task> AfterAsync { get; init; } = _ => Task.CompletedTask;

        public List<IAsyncDisposable> Owned { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await writer.DisposeAsync();
            await reader.DisposeAsync();
            foreach (var owned in Owned)
                await owned.DisposeAsync();
        }
    }
}

/// <summary><c>zk-leader-kill</c>: SIGKILL the ZooKeeper leader under load; the ensemble elects another and the clients move on.</summary>
internal sealed class ZooKeeperLeaderKillScenario : InvalidationFaultScenario
{
    public override string Name => "zk-leader-kill";

    public override string Description =>
        "Under the load and an invalidation probe between two services, the ZooKeeper leader is killed (SIGKILL) a third of the way in and restarted two thirds of the way in.";

    protected override Task<ProbeSetup> SetUpAsync(ScenarioContext context) =>
        Task.FromResult(new ProbeSetup(context.OpenClient(), context.OpenClient(), ProbeKeys(32)) { AfterAsync = c => c.Cluster.Ensemble!.WaitForLeaderAsync(TimeSpan.FromSeconds(60), c.CancellationToken) });

    protected override async Task<(long Began, long Healed)> FaultAsync(ScenarioContext context, ProbeSetup setup, ScenarioResult result, Timeline timeline)
    {
        var ensemble = context.Cluster.Ensemble!;
        int leader = ensemble.LeaderIndex;
        long began = Now();
        await ensemble.KillAsync(leader);
        result.Mark(timeline, "leader killed");
        context.Progress.Note($"zk-leader-kill: killed the leader, member {leader}");
        var clock = Stopwatch.StartNew();
        int next = await ensemble.WaitForLeaderAsync(TimeSpan.FromSeconds(60), context.CancellationToken);
        result.Figure("time until a new leader was elected", ScenarioResult.Ms(clock.Elapsed));
        long healed = Now();
        result.Mark(timeline, $"member {next} leads");
        _ = RestartLaterAsync(context, timeline, leader);
        return (began, healed);
    }

    private static async Task RestartLaterAsync(ScenarioContext context, Timeline timeline, int member)
    {
        await context.UntilAsync(timeline, context.FaultAt * 2);
        await context.Cluster.RestartZooKeeperAsync(member, context.CancellationToken);
    }
}

/// <summary><c>zk-down</c>: the whole ensemble is down for a third of the run; the cache serves on, invalidations queue and are sent when it returns.</summary>
internal sealed class ZooKeeperDownScenario : InvalidationFaultScenario
{
    public override string Name => "zk-down";

    public override string Description =>
        "Under the load and an invalidation probe between two services, every ZooKeeper member is killed a third of the way in and started again two thirds of the way in.";

    protected override Task<ProbeSetup> SetUpAsync(ScenarioContext context) =>
        Task.FromResult(new ProbeSetup(context.OpenClient(), context.OpenClient(), ProbeKeys(32))
        {
            AfterAsync = c => c.Cluster.WaitForMembersAsync(c.Cluster.Memcached.Count, TimeSpan.FromSeconds(60), c.CancellationToken),
        });

    protected override async Task<(long Began, long Healed)> FaultAsync(ScenarioContext context, ProbeSetup setup, ScenarioResult result, Timeline timeline)
    {
        var ensemble = context.Cluster.Ensemble!;
        long began = Now();
        for (int member = 0; member < ensemble.Count; member++)
            await ensemble.KillAsync(member);
        result.Mark(timeline, "ZooKeeper down");
        context.Progress.Note("zk-down: killed every ZooKeeper member");
        await context.UntilAsync(timeline, context.FaultAt * 2);
        // Together: a member reports itself serving only once a quorum is up.
        await Task.WhenAll(Enumerable.Range(0, ensemble.Count).Select(member => context.Cluster.RestartZooKeeperAsync(member, context.CancellationToken)));
        await ensemble.WaitForLeaderAsync(TimeSpan.FromSeconds(60), context.CancellationToken);
        long healed = Now();
        result.Mark(timeline, "ZooKeeper back");
        result.Figure("ZooKeeper unavailable (kill until the restarted ensemble serves)", ScenarioResult.Ms(TimeSpan.FromMilliseconds(healed - began)));
        return (began, healed);
    }
}
