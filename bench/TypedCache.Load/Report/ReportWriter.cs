using System.Globalization;
using System.Text;
using TypedCache.Load.Measure;
using TypedCache.Load.Scenarios;

namespace TypedCache.Load.Report;

/// <summary>Writes <c>report.md</c> and one chart per scenario into the run's folder.</summary>
internal static class ReportWriter
{
    public static string Write(BenchRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        var text = new StringBuilder();
        var settings = run.Settings;
        text.AppendLine("# TypedCache load and chaos report").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Run {run.StartedAt:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores: `{run.CommandLine}`.");
        text.AppendLine(CultureInfo.InvariantCulture, $"{settings.Workers} worker processes × {settings.Concurrency} callers, {settings.Keys:#,0} keys (Zipf s = {settings.ZipfExponent}), mix read:write:invalidate {settings.Mix}, {settings.Duration.TotalSeconds:0} s per phase; servers {(run.OwnedServers ? "started by the run (3 memcached, 3-member ZooKeeper)" : "given")}.");
        text.AppendLine("Absolute figures depend on the machine; compare the ratios.").AppendLine();
        text.AppendLine("| scenario | verdict | figures |").AppendLine("|---|---|---|");
        foreach (var result in run.Results)
        {
            string verdict = result.SkippedBecause is not null ? "skipped" : result.Passed ? "pass" : "**FAIL**";
            string figures = string.Join("; ", result.Verdicts.Select(v => $"{v.Name} {v.Value}").Concat(result.Figures.Take(3).Select(f => $"{f.Name} {f.Value}")));
            text.AppendLine(CultureInfo.InvariantCulture, $"| {result.Name} | {verdict} | {Cell(figures)} |");
        }
        text.AppendLine();
        foreach (var result in run.Results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"## {result.Name}").AppendLine().AppendLine(result.Description).AppendLine();
            if (result.SkippedBecause is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"Skipped: {result.SkippedBecause}").AppendLine();
                continue;
            }
            if (result.Verdicts.Count > 0)
            {
                text.AppendLine("| verdict | value | must be at most | definition |").AppendLine("|---|---|---|---|");
                foreach (var v in result.Verdicts)
                    text.AppendLine(CultureInfo.InvariantCulture, $"| {v.Name} | {(v.Passed ? v.Value.ToString(CultureInfo.InvariantCulture) : $"**{v.Value}**")} | {v.Limit} | {Cell(v.Definition)} |");
                text.AppendLine();
            }
            if (result.Figures.Count > 0)
            {
                text.AppendLine("| figure | value |").AppendLine("|---|---|");
                foreach (var f in result.Figures)
                    text.AppendLine(CultureInfo.InvariantCulture, $"| {Cell(f.Name)} | {Cell(f.Value)} |");
                text.AppendLine();
            }
            if (result.Peers.Count > 1)
            {
                var baseline = result.Peers[0].Totals;
                text.AppendLine("| cache | throughput | p50 | p99 | writes and invalidations p50 / p99 | hit ratio | throughput ratio (TypedCache / this) |").AppendLine("|---|---|---|---|---|---|---|");
                foreach (var peer in result.Peers)
                {
                    var t = peer.Totals;
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"| {peer.Name} | {ScenarioResult.Number(t.OperationsPerSecond)} ops/s | {ScenarioResult.Ms(t.P50)} | {ScenarioResult.Ms(t.P99)} | {(t.Operations == t.Reads ? "-" : $"{ScenarioResult.Ms(t.WriteP50)} / {ScenarioResult.Ms(t.WriteP99)}")} | {ScenarioResult.Percent(t.HitRatio)} | {SteadyScenario.Ratio(baseline.OperationsPerSecond, t.OperationsPerSecond)} |");
                }
                text.AppendLine();
                AppendKinds(text, result.Peers);
            }
            if (result.Timeline is not null)
            {
                string chart = result.Name + ".png";
                Charts.Write(result, result.Timeline, Path.Combine(directory, chart));
                text.AppendLine(CultureInfo.InvariantCulture, $"![{result.Name}: throughput and p99 latency over time]({chart})").AppendLine();
            }
        }
        text.AppendLine("## Processes").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{run.Processes.Count} processes started (servers, restarts, workers), each stopped by its PID; {run.LeftRunning.Count} left running{(run.LeftRunning.Count == 0 ? "." : ": " + string.Join(", ", run.LeftRunning.Select(p => $"{p.What} ({p.Pid})")))}");
        string path = Path.Combine(directory, "report.md");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>
    /// One row per kind of operation any cache ran, the caches side by side: how many, their latency percentiles, and
    /// the first cache's percentiles over this one's, as the peers table gives its throughput ratio.
    /// </summary>
    private static void AppendKinds(StringBuilder text, IReadOnlyList<PeerRun> peers)
    {
        var kinds = OperationKinds.All.Where(k => peers.Any(p => Find(p, k) is not null)).ToList();
        if (kinds.Count == 0)
            return;
        text.AppendLine(CultureInfo.InvariantCulture, $"Latency by operation: count · p50 / p99 / p99.9; for the other caches also p50 and p99 ratios ({peers[0].Name} / this).").AppendLine();
        text.AppendLine("| operation | " + string.Join(" | ", peers.Select(p => Cell(p.Name))) + " |");
        text.AppendLine("|---|" + string.Concat(peers.Select(_ => "---|")));
        foreach (var kind in kinds)
        {
            var baseline = Find(peers[0], kind);
            var cells = peers.Select((peer, index) => Find(peer, kind) is not { } t
                ? "-"
                : $"{ScenarioResult.Number(t.Count)} · {ScenarioResult.Ms(t.P50)} / {ScenarioResult.Ms(t.P99)} / {ScenarioResult.Ms(t.P999)}" +
                  (index == 0 || baseline is null ? "" : $" · {SteadyScenario.Ratio(baseline.P50, t.P50)} / {SteadyScenario.Ratio(baseline.P99, t.P99)}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"| {kind.Label()} | {string.Join(" | ", cells)} |");
        }
        text.AppendLine();
    }

    private static KindTotals? Find(PeerRun peer, OperationKind kind) => peer.Totals.Kinds.FirstOrDefault(k => k.Kind == kind);

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");
}
