using TypedCache.Generator.Helpers;

namespace TypedCache.Generator.Model;

/// <summary>One <c>partial</c> repository property of a user's <c>CacheContext</c> subclass.</summary>
/// <remarks>
/// Cached across compilations by the incremental pipeline: keep it immutable and structurally equal. Never
/// ISymbol, SyntaxNode, Location or Compilation.
/// </remarks>
/// <param name="ContextName">The context's fully qualified name, grouping properties into one file.</param>
/// <param name="Namespace">The context's namespace; empty for the global namespace.</param>
/// <param name="Declarations">The context and its containing types as <c>partial class X</c>, outermost first.</param>
/// <param name="PropertyName">The property's name.</param>
/// <param name="Modifiers">The property's modifiers as written, <c>public partial</c>.</param>
/// <param name="RepoType">The property's type as written, without <c>global::</c>: <c>ProductRepo</c> or <c>Shop.ProductRepo</c>.</param>
/// <param name="TypeExists">Whether the type exists before generation (then it is not a generated repository).</param>
/// <param name="IsGetOnly">Whether the property has a get accessor only.</param>
internal sealed record ContextPropertySpec(
    string ContextName,
    string Namespace,
    EquatableArray<string> Declarations,
    string PropertyName,
    string Modifiers,
    string RepoType,
    bool TypeExists,
    bool IsGetOnly,
    LocationInfo? Location);

/// <summary>A generated repository a context property can refer to.</summary>
/// <remarks>
/// Structurally equal; only strings, no location: the contexts' output depends on the collected repositories,
/// so a location here would re-emit every context whenever a <c>[Cached]</c> type moves in its file.
/// </remarks>
internal sealed record RepoRef(string Namespace, string RepoName, string TypeName, string CacheName)
{
    public string FullName => Namespace.Length == 0 ? RepoName : Namespace + "." + RepoName;
}

/// <summary>A generated repository and where its <c>[Cached]</c> type is declared, for duplicate-name diagnostics.</summary>
internal sealed record RepoDeclaration(RepoRef Repo, LocationInfo? Location);

/// <summary>What parsing one <c>[Cached]</c> type gave: the spec when valid, and the diagnostics.</summary>
/// <remarks>Structurally equal, as the specs it holds.</remarks>
internal sealed record ParseResult(CachedTypeSpec? Spec, RepoDeclaration? Repo, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>The result for a second <c>[Cached]</c> on another partial declaration of a type already parsed.</summary>
    public static readonly ParseResult Skipped = new(null, null, EquatableArray<DiagnosticInfo>.Empty);
}
