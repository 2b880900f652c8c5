namespace TypedCache.Load.Scenarios;

/// <summary>One scenario of the load tool: it runs against the context's servers and returns its verdicts and figures.</summary>
internal abstract class Scenario
{
    /// <summary>Every scenario, in the order <c>--scenario all</c> runs them.</summary>
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new SteadyScenario(),
        new StampedeScenario(),
        new NodeKillScenario(),
        new NodeJoinScenario(),
        new ZooKeeperLeaderKillScenario(),
        new ZooKeeperDownScenario(),
        new PartitionScenario(),
        new StaleSetScenario(),
        new LockStormScenario(),
        new ProxyScenario(),
    ];

    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>True when the scenario kills or restarts servers, so it needs servers this run started.</summary>
    public virtual bool NeedsOwnedServers => false;

    public abstract Task<ScenarioResult> RunAsync(ScenarioContext context);
}
