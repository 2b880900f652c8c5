using TypedCache.Load.Report;
using TypedCache.Load.Scenarios;
using TypedCache.Load.Servers;

namespace TypedCache.Load;

/// <summary>What a run produced: each scenario's result, the processes it started and any it failed to stop, its report.</summary>
internal sealed record BenchRun(BenchSettings Settings, string CommandLine, DateTime StartedAt, bool OwnedServers, IReadOnlyList<ScenarioResult> Results,
    IReadOnlyList<(int Pid, string What)> Processes, IReadOnlyList<(int Pid, string What)> LeftRunning)
{
    public string? ReportPath { get; init; }

    public bool Passed => LeftRunning.Count == 0 && Results.All(r => r.Passed);
}

/// <summary>Starts (or connects to) the servers, runs the scenarios one after another, stops everything it started, and writes the report.</summary>
internal static class BenchRunner
{
    public static async Task<BenchRun> RunAsync(BenchSettings settings, string commandLine, CancellationToken cancellationToken)
    {
        var scenarios = Select(settings.Scenarios);
        var started = DateTime.UtcNow;
        var log = new ProcessLog();
        var progress = new LiveProgress(settings.Log);
        var results = new List<ScenarioResult>();
        bool owned = settings.ZooKeeper is null;
        await progress.RunAsync(async () =>
        {
            progress.Note(owned ? "starting 3 memcached servers and a 3-member ZooKeeper ensemble" : $"using ZooKeeper {settings.ZooKeeper}");
            await using var cluster = owned
                ? await BenchCluster.StartAsync(log, BenchCluster.NewRoot(), 3, cancellationToken)
                : await BenchCluster.UseAsync(log, BenchCluster.NewRoot(), settings.ZooKeeper!, settings.Memcached, cancellationToken);
            await using var context = new ScenarioContext(settings, cluster, log, progress, cancellationToken);
            foreach (var scenario in scenarios)
            {
                if (scenario.NeedsOwnedServers && !cluster.Owned)
                {
                    results.Add(new ScenarioResult(scenario.Name, scenario.Description) { SkippedBecause = "it kills servers, so it runs only on servers the run started itself" });
                    continue;
                }
                progress.Note($"{scenario.Name}: {scenario.Description}");
                var result = await RunOneAsync(scenario, context);
                results.Add(result);
                progress.Note($"{scenario.Name}: {(result.Passed ? "pass" : "FAIL")} — {string.Join(", ", result.Verdicts.Select(v => $"{v.Name} {v.Value}"))}");
            }
        });
        var run = new BenchRun(settings, commandLine, started, owned, results, log.Started, log.StillRunning());
        return run with { ReportPath = ReportWriter.Write(run, settings.OutputDirectory) };
    }

    public static IReadOnlyList<Scenario> Select(IReadOnlyList<string> names)
    {
        if (names.Contains("all"))
            return Scenario.All;
        return [.. names.Select(name => Scenario.All.FirstOrDefault(s => s.Name == name)
            ?? throw new ArgumentException($"unknown scenario '{name}'; the scenarios are {string.Join(", ", Scenario.All.Select(s => s.Name))} and all"))];
    }

    /// <summary>Runs one scenario; one that throws (a server that did not come back, a worker that died) fails with the reason.</summary>
    private static async Task<ScenarioResult> RunOneAsync(Scenario scenario, ScenarioContext context)
    {
        try
        {
            return await scenario.RunAsync(context);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            var result = new ScenarioResult(scenario.Name, scenario.Description);
            result.Verdicts.Add(new Verdict("scenario failed", 1, 0, $"{e.GetType().Name}: {e.Message}"));
            return result;
        }
    }
}
