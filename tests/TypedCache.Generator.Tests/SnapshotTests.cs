using Microsoft.CodeAnalysis;

namespace TypedCache.Generator.Tests;

public sealed class SnapshotTests
{
    public static TheoryData<string> Inputs => new(nameof(Sources.Shop), nameof(Sources.Members), nameof(Sources.Unusual));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Generated_files_match_their_snapshots_and_are_reused_when_nothing_cached_changes(string input)
    {
        var compilation = GeneratorHarness.Compile(Source(input));
        var (result, _) = GeneratorHarness.Run(compilation);

        Assert.Empty(result.Diagnostics);
        Snapshot.VerifyAll(input, [.. result.GeneratedSources.Select(static s => (s.HintName, s.SourceText.ToString()))]);
        GeneratorHarness.AssertIncremental(compilation);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Generated_code_compiles_without_warnings(string input)
    {
        var (_, output) = GeneratorHarness.Run(GeneratorHarness.Compile(Source(input)));

        // Test inputs are not documented (CS1591 there); generated files must be warning-free, docs included.
        var problems = output.GetDiagnostics()
            .Where(static d => d.Severity == DiagnosticSeverity.Error
                || (d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true))
            .ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string Source(string name) => name switch
    {
        nameof(Sources.Shop) => Sources.Shop,
        nameof(Sources.Members) => Sources.Members,
        _ => Sources.Unusual,
    };
}
