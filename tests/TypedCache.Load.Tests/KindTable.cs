namespace TypedCache.Load.Tests;

/// <summary>The latency-by-operation table of one scenario's section in <c>report.md</c>, read back from the Markdown.</summary>
internal sealed record KindTable(IReadOnlyList<string> Caches, IReadOnlyDictionary<string, IReadOnlyList<string>> Rows)
{
    /// <summary>The table in <paramref name="scenario"/>'s section, or null when the section has none.</summary>
    public static KindTable? Read(string report, string scenario)
    {
        var lines = report.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int section = lines.IndexOf($"## {scenario}");
        if (section < 0)
            return null;
        var inSection = lines.Skip(section + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)).ToList();
        int header = inSection.FindIndex(l => l.StartsWith("| operation |", StringComparison.Ordinal));
        if (header < 0)
            return null;
        var rows = inSection.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(Cells).ToList();
        return new KindTable(Cells(inSection[header])[1..], rows.ToDictionary(r => r[0], r => (IReadOnlyList<string>)r[1..]));
    }

    /// <summary>The count a cell begins with (<c>1,234 · p50 / p99 / p99.9 …</c>), or null for a cell without one (<c>-</c>).</summary>
    public static long? Count(string cell) =>
        cell.Split(" · ")[0] is var first && long.TryParse(first, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture, out long count)
            ? count
            : null;

    private static string[] Cells(string line) => [.. line.Trim('|').Split(" | ").Select(c => c.Trim())];
}
