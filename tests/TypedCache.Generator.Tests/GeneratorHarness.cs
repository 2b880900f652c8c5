using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedCache.Generator.Helpers;

namespace TypedCache.Generator.Tests;

/// <summary>Compiles sources against the runtime, runs the generator on them and checks that its steps cache.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Preview, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(static () =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToHashSet();
        paths.Add(typeof(CacheContext).Assembly.Location);
        paths.Add(typeof(CachedAttribute).Assembly.Location);
        paths.Add(typeof(MessagePack.MessagePackWriter).Assembly.Location);
        return [.. paths.Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    private static readonly string[] TrackedSteps =
        [TrackingNames.CachedTypes, TrackingNames.RepositoryDeclarations, TrackingNames.Repositories, TrackingNames.ContextProperties, TrackingNames.Contexts];

    public static CSharpCompilation Compile(params string[] sources) =>
        CSharpCompilation.Create(
            "Generated",
            sources.Select(static (s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(UnifiedReferenceWarnings));

    /// <summary>The reference-unification warnings the .NET SDK suppresses in every build.</summary>
    private static readonly Dictionary<string, ReportDiagnostic> UnifiedReferenceWarnings = new()
    {
        ["CS1701"] = ReportDiagnostic.Suppress,
        ["CS1702"] = ReportDiagnostic.Suppress,
    };

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator once; the result's exception is asserted null (the generator never throws).</summary>
    public static (GeneratorRunResult Result, Compilation Output) Run(CSharpCompilation compilation)
    {
        var driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult().Results.Single();
        Assert.Null(result.Exception);
        return (result, output);
    }

    public static ImmutableArray<Diagnostic> GeneratorDiagnostics(params string[] sources) => Run(Compile(sources)).Result.Diagnostics;

    /// <summary>
    /// Runs the driver on <paramref name="compilation"/>, then again on a clone and on the compilation with an
    /// unrelated file added, and asserts that every tracked step and every output was reused.
    /// </summary>
    public static void AssertIncremental(CSharpCompilation compilation)
    {
        var driver = CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();

        var again = driver.RunGenerators(compilation.Clone()).GetRunResult().Results.Single();
        AssertReused(first, again);

        var unrelated = CSharpSyntaxTree.ParseText("namespace Elsewhere { internal sealed class Unrelated { public int Value { get; set; } } }", ParseOptions, path: "Unrelated.cs");
        var edited = driver.RunGenerators(compilation.AddSyntaxTrees(unrelated)).GetRunResult().Results.Single();
        AssertReused(first, edited);
    }

    private static void AssertReused(GeneratorRunResult first, GeneratorRunResult next)
    {
        Assert.Equal(
            first.GeneratedSources.Select(static s => (s.HintName, s.SourceText.ToString())),
            next.GeneratedSources.Select(static s => (s.HintName, s.SourceText.ToString())));
        foreach (var name in TrackedSteps)
        {
            if (!next.TrackedSteps.TryGetValue(name, out var steps))
            {
                continue;
            }

            foreach (var output in steps.SelectMany(static s => s.Outputs))
            {
                Assert.True(
                    output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"step {name} re-ran with reason {output.Reason}");
            }
        }

        foreach (var output in next.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs))
        {
            Assert.Equal(IncrementalStepRunReason.Cached, output.Reason);
        }
    }
}
