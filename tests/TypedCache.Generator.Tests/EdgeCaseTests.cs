using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedCache.Generator.Helpers;

namespace TypedCache.Generator.Tests;

/// <summary>Inputs that once broke the generator's output or its caching.</summary>
public sealed class EdgeCaseTests
{
    [Fact]
    public void Cached_on_two_partial_declarations_of_one_type_emits_its_files_once()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached] public partial record A { public string? Name { get; init; } }\n"
                + "[TypedCache.Cached] public partial record B([property: TypedCache.CacheKey] int Id);"));

        Assert.Equal(
            ["A.Key.g.cs", "A.Repo.g.cs", "A.Serializer.g.cs", "B.Key.g.cs", "B.Repo.g.cs", "B.Serializer.g.cs"],
            result.GeneratedSources.Select(static s => s.HintName).Order());
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Key_parts_whose_names_differ_only_in_case_get_distinct_parameters_and_compile()
    {
        var (result, output) = GeneratorHarness.Run(GeneratorHarness.Compile("""
            [TypedCache.Cached]
            public partial class A
            {
                [TypedCache.CacheKey(Order = 0)] public int Id { get; set; }
                [TypedCache.CacheKey(Order = 1)] public int id;
                [TypedCache.CacheKey(Order = 2)] public string Id2 { get; set; } = "";
            }
            """));

        Assert.Empty(result.Diagnostics);
        var errors = output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var key = result.GeneratedSources.Single(static s => s.HintName == "A.Key.g.cs").SourceText.ToString();
        Assert.Contains("(int id, int id2, string id22)", key);
    }

    [Fact]
    public void Moving_a_cached_type_in_its_file_leaves_the_contexts_cached()
    {
        const string Entity = "namespace Shop;\n[TypedCache.Cached] public partial record Product([property: TypedCache.CacheKey] int Id);\n";
        const string Context = """
            namespace Shop;
            public partial class ShopCache : TypedCache.CacheContext
            {
                public ShopCache(TypedCache.CacheContextOptions<ShopCache> options) : base(options) { }
                public partial ProductRepo Products { get; }
            }
            """;
        var compilation = GeneratorHarness.Compile(Entity, Context);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var before = driver.GetRunResult().Results.Single();

        var entityTree = compilation.SyntaxTrees.First();
        var moved = compilation.ReplaceSyntaxTree(
            entityTree,
            CSharpSyntaxTree.ParseText("\n\n// moved down\n" + Entity, GeneratorHarness.ParseOptions, path: entityTree.FilePath));
        var after = driver.RunGenerators(moved).GetRunResult().Results.Single();

        // The declarations step sees the new location; the location-free repositories and the contexts do not.
        Assert.Contains(after.TrackedSteps[TrackingNames.RepositoryDeclarations].SelectMany(static s => s.Outputs), static o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(
            after.TrackedSteps[TrackingNames.Repositories].SelectMany(static s => s.Outputs),
            static o => Assert.Equal(IncrementalStepRunReason.Unchanged, o.Reason));
        var context = Assert.Single(after.GeneratedSources, static s => s.HintName.EndsWith(".CacheContext.g.cs", StringComparison.Ordinal));
        Assert.Equal(
            before.GeneratedSources.Single(s => s.HintName == context.HintName).SourceText.ToString(),
            context.SourceText.ToString());
        var contextOutputs = after.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs).ToList();
        Assert.Contains(contextOutputs, static o => o.Reason == IncrementalStepRunReason.Cached);
    }
}
