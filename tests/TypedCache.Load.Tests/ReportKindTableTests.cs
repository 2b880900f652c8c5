using TypedCache.Load.Measure;
using TypedCache.Load.Report;
using TypedCache.Load.Scenarios;

namespace TypedCache.Load.Tests;

/// <summary>The report's latency-by-operation table, written from timelines whose operations are known.</summary>
public sealed class ReportKindTableTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "typedcache-load-report-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Each_kind_is_a_row_with_the_caches_side_by_side_and_the_ratios_to_the_first()
    {
        var typed = Totals((OperationKind.ReadHit, 1, 4), (OperationKind.ReadMiss, 10, 2), (OperationKind.Write, 2, 3), (OperationKind.Invalidate, 2, 1));
        var peer = Totals((OperationKind.ReadHit, 2, 5), (OperationKind.Write, 4, 1));
        var result = new ScenarioResult("steady", "the mix");
        result.Peers.Add(new PeerRun("TypedCache", typed));
        result.Peers.Add(new PeerRun("Peer | Redis", peer));

        var table = KindTable.Read(File.ReadAllText(Write(result)), "steady");

        Assert.NotNull(table);
        Assert.Equal(["TypedCache", "Peer \\| Redis"], table.Caches);
        Assert.Equal(["read hit", "read miss", "write", "invalidate"], table.Rows.Keys);
        Assert.Equal([4L, 5L], table.Rows["read hit"].Select(KindTable.Count));
        Assert.Equal("2 · 10.3 ms / 10.3 ms / 10.3 ms", table.Rows["read miss"][0]);
        Assert.Equal("-", table.Rows["read miss"][1]);
        // TypedCache's writes take 2 ms and the peer's 4 ms, so 2.08 / 4.11 ms in the histogram's buckets.
        Assert.EndsWith(" · 0.51× / 0.51×", table.Rows["write"][1], StringComparison.Ordinal);
        Assert.DoesNotContain("×", table.Rows["write"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_with_one_cache_has_no_table()
    {
        var result = new ScenarioResult("node-kill", "a kill");
        result.Peers.Add(new PeerRun("TypedCache", Totals((OperationKind.ReadHit, 1, 1))));

        Assert.Null(KindTable.Read(File.ReadAllText(Write(result)), "node-kill"));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private string Write(ScenarioResult result) =>
        ReportWriter.Write(new BenchRun(new BenchSettings(), "test", DateTime.UtcNow, true, [result], [], []), _directory);

    /// <summary>A phase's totals with <c>Count</c> operations of each kind, every one taking <c>Milliseconds</c>.</summary>
    private static TimelineTotals Totals(params (OperationKind Kind, double Milliseconds, int Count)[] operations)
    {
        var meter = new IntervalMeter();
        foreach (var (kind, milliseconds, count) in operations)
        {
            for (int i = 0; i < count; i++)
                meter.Record(TimeSpan.FromMilliseconds(milliseconds), kind);
        }
        var tick = meter.Take();
        var timeline = new Timeline(tick.At - 1000);
        timeline.Add(tick);
        return timeline.Totals();
    }
}
