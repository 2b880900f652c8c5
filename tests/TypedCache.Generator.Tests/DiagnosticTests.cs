using System.Text.RegularExpressions;

namespace TypedCache.Generator.Tests;

public sealed partial class DiagnosticTests
{
    private const string Context = """
        public partial class Ctx : TypedCache.CacheContext
        {
            public Ctx(TypedCache.CacheContextOptions<Ctx> options) : base(options) { }
        """;

    /// <summary>Each diagnostic id with a source that triggers it and a valid neighbour that does not.</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        {
            "TC1001",
            "[TypedCache.Cached] public record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1002",
            "[TypedCache.Cached] public partial record A(int Id);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1003",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] double Id);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] long Id, double Other);"
        },
        {
            "TC1004",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id, System.IO.Stream Data);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id) { [TypedCache.CacheIgnore] public System.IO.Stream? Data { get; set; } }"
        },
        {
            "TC1005",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id, [property: TypedCache.CacheKey] int Other);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id, [property: TypedCache.CacheKey(Order = 1)] int Other);"
        },
        {
            "TC1006",
            "[TypedCache.Cached(TtlSeconds = 0)] public partial record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached(TtlSeconds = 1, LocalTtlSeconds = 0)] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1006",
            "[TypedCache.Cached(LocalTtlSeconds = -1)] public partial record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached(LocalTtlSeconds = 1)] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1007",
            "[TypedCache.Cached(Tags = new[] { \"has space\" })] public partial record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached(Tags = new[] { \"has-dash_and.dot\" })] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1008",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\n" + Context + "public partial BRepo As { get; } }",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\n" + Context + "public partial ARepo As { get; } }"
        },
        {
            "TC1008",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\npublic sealed class Other { }\n" + Context + "public partial Other As { get; } }",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\npublic sealed class Other { }\n" + Context + "public partial global::ARepo As { get; } }"
        },
        {
            "TC1009",
            "[TypedCache.Cached(Name = \"a:b\")] public partial record A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached(Name = \"a.b\")] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1009",
            "[TypedCache.Cached] public partial record Ä([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached(Name = \"AE\")] public partial record Ä([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1010",
            "[TypedCache.Cached] public partial record struct A([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached] public partial record class A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1011",
            "[TypedCache.Cached] public partial class A { private A() { } [TypedCache.CacheKey] public int Id { get; set; } }",
            "[TypedCache.Cached] public partial class A { internal A() { } [TypedCache.CacheKey] public int Id { get; set; } }"
        },
        {
            "TC1011",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id, B Nested);\npublic abstract class B { }",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id, B Nested);\npublic sealed class B { }"
        },
        {
            "TC1012",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\n" + Context + "public partial ARepo As { get; set; } }",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);\n" + Context + "public partial ARepo As { get; } }"
        },
        {
            "TC1013",
            "[TypedCache.Cached] public partial record A<T>([property: TypedCache.CacheKey] int Id);",
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id);"
        },
        {
            "TC1014",
            "public partial class Outer { [TypedCache.Cached] private partial record A([property: TypedCache.CacheKey] int Id); }",
            "public partial class Outer { [TypedCache.Cached] internal partial record A([property: TypedCache.CacheKey] int Id); }"
        },
        {
            "TC1015",
            "namespace N1 { [TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id); }\nnamespace N2 { [TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id); }",
            "namespace N1 { [TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] int Id); }\nnamespace N2 { [TypedCache.Cached(Name = \"A2\")] public partial record A([property: TypedCache.CacheKey] int Id); }"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_diagnostic_is_reported(string id, string invalid, string valid)
    {
        _ = valid;
        var diagnostic = Assert.Single(GeneratorHarness.GeneratorDiagnostics(invalid), d => d.Id == id);
        Assert.Equal(Microsoft.CodeAnalysis.DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.DoesNotMatch(Placeholder(), diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_valid_neighbour_reports_nothing(string id, string invalid, string valid)
    {
        _ = invalid;
        var diagnostics = GeneratorHarness.GeneratorDiagnostics(valid);
        Assert.DoesNotContain(diagnostics, d => d.Id == id);
        Assert.True(diagnostics.IsEmpty, string.Join("\n", diagnostics));
    }

    [Fact]
    public void An_invalid_type_is_skipped_and_valid_ones_are_still_generated()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(
            "[TypedCache.Cached] public partial record Bad(int Id);\n[TypedCache.Cached] public partial record Good([property: TypedCache.CacheKey] int Id);"));

        Assert.Equal("TC1002", Assert.Single(result.Diagnostics).Id);
        Assert.Equal(["Good.Key.g.cs", "Good.Repo.g.cs", "Good.Serializer.g.cs"], result.GeneratedSources.Select(static s => s.HintName).Order());
    }

    [Fact]
    public void Broken_user_code_does_not_make_the_generator_throw()
    {
        var (result, _) = GeneratorHarness.Run(GeneratorHarness.Compile(
            "[TypedCache.Cached] public partial record A([property: TypedCache.CacheKey] Missing Id, Unknown Other);\n" + Context + "public partial Nope X { get; } }"));
        Assert.Contains(result.Diagnostics, static d => d.Id == "TC1003");
    }

    [GeneratedRegex(@"\{\d\}")]
    private static partial Regex Placeholder();
}
