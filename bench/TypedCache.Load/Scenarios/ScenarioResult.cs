using TypedCache.Load.Measure;

namespace TypedCache.Load.Scenarios;

/// <summary>A pass/fail figure: it passes when <see cref="Value"/> is at most <see cref="Limit"/> (0 for the correctness verdicts).</summary>
internal sealed record Verdict(string Name, long Value, long Limit, string Definition)
{
    public bool Passed => Value <= Limit;
}

/// <summary>A measured figure, already formatted.</summary>
internal sealed record Figure(string Name, string Value);

/// <summary>An instant of the run worth marking on its chart: a fault injected or healed.</summary>
internal sealed record FaultMark(double Seconds, string Label);

/// <summary>One cache measured side by side with the others in the same scenario (TypedCache first).</summary>
internal sealed record PeerRun(string Name, TimelineTotals Totals);

/// <summary>What a scenario found.</summary>
internal sealed class ScenarioResult(string name, string description)
{
    public string Name { get; } = name;

    public string Description { get; } = description;

    public string? SkippedBecause { get; set; }

    public List<Verdict> Verdicts { get; } = [];

    public List<Figure> Figures { get; } = [];

    public List<FaultMark> Marks { get; } = [];

    public List<PeerRun> Peers { get; } = [];

    public Timeline? Timeline { get; set; }

    public bool Passed => SkippedBecause is not null || Verdicts.All(v => v.Passed);

    public void Figure(string name, string value) => Figures.Add(new Figure(name, value));

    public void Mark(Timeline timeline, string label) => Marks.Add(new FaultMark(timeline.Seconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), label));

    public static string Ms(double milliseconds) => milliseconds < 1
        ? (milliseconds * 1000).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + " µs"
        : milliseconds.ToString(milliseconds < 10 ? "0.00" : "0.0", System.Globalization.CultureInfo.InvariantCulture) + " ms";

    public static string Ms(TimeSpan span) => Ms(span.TotalMilliseconds);

    public static string Number(double value, string format = "#,0") => value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => (ratio * 100).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
