using System.Text.RegularExpressions;

namespace TypedCache.Generator.Tests;

public sealed partial class SchemaHashTests
{
    private const string Original = """
        [TypedCache.Cached] public partial record P([property: TypedCache.CacheKey] int Id, string Name, N Nested);
        public sealed record N(int A, long B);
        """;

    public static TheoryData<string, string> LayoutChanges => new()
    {
        { "a member added", Original.Replace("string Name,", "string Name, int Extra,", StringComparison.Ordinal) },
        { "a member removed", Original.Replace("string Name,", string.Empty, StringComparison.Ordinal) },
        { "members reordered", Original.Replace("[property: TypedCache.CacheKey] int Id, string Name", "string Name, [property: TypedCache.CacheKey] int Id", StringComparison.Ordinal) },
        { "a member renamed", Original.Replace("string Name", "string Title", StringComparison.Ordinal) },
        { "a member's type changed", Original.Replace("string Name", "long Name", StringComparison.Ordinal) },
        { "a nested member's type changed", Original.Replace("long B", "int B", StringComparison.Ordinal) },
        { "a nested member added", Original.Replace("long B)", "long B, bool C)", StringComparison.Ordinal) },
        { "a member made a nullable value", Original.Replace("long B", "long? B", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(LayoutChanges))]
    public void The_hash_changes_with_the_member_layout(string change, string source)
    {
        Assert.NotEqual(Hash(Original), Hash(source));
        _ = change;
    }

    [Fact]
    public void The_hash_ignores_what_does_not_change_the_payload()
    {
        var reformatted = "// a comment\n" + Original.Replace("string Name", "string   Name", StringComparison.Ordinal)
            + "\npublic sealed class Unrelated { public int X { get; set; } }";
        var ttl = Original.Replace("[TypedCache.Cached]", "[TypedCache.Cached(TtlSeconds = 5)]", StringComparison.Ordinal);
        Assert.Equal(Hash(Original), Hash(reformatted));
        var nullableReference = Original.Replace("string Name", "string? Name", StringComparison.Ordinal);
        Assert.Equal(Hash(Original), Hash(ttl));
        Assert.Equal(Hash(Original), Hash(nullableReference));
    }

    private static string Hash(string source)
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(source));
        Assert.Empty(result.Diagnostics);
        var repo = result.GeneratedSources.Single(static s => s.HintName == "P.Repo.g.cs").SourceText.ToString();
        return HashLiteral().Match(repo).Value;
    }

    [GeneratedRegex("0x[0-9A-F]{16}UL")]
    private static partial Regex HashLiteral();
}
