using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedCache.Generator.Helpers;
using TypedCache.Generator.Model;

namespace TypedCache.Generator;

/// <summary>
/// TypedCache's incremental generator: for each <c>[Cached]</c> type, a MessagePack formatter, a key struct and a
/// repository; for each <c>CacheContext</c> subclass, its <c>partial</c> repository properties.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class CachedGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                TypeNames.CachedAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax or RecordDeclarationSyntax or StructDeclarationSyntax,
                transform: Parser.ParseCachedType)
            .WithTrackingName(TrackingNames.CachedTypes);

        context.RegisterSourceOutput(parsed, Emitter.EmitCachedType);

        var declarations = parsed
            .Where(static result => result.Repo is not null)
            .Select(static (result, _) => result.Repo!)
            .Collect()
            .Select(static (repos, _) => new EquatableArray<RepoDeclaration>(repos.OrderBy(static r => r.Repo.FullName, System.StringComparer.Ordinal)))
            .WithTrackingName(TrackingNames.RepositoryDeclarations);

        context.RegisterSourceOutput(declarations, Emitter.ReportDuplicateRepositories);

        // Without locations: moving a [Cached] type in its file leaves this step Unchanged and the contexts Cached.
        var repositories = declarations
            .Select(static (repos, _) => new EquatableArray<RepoRef>(repos.Select(static r => r.Repo)))
            .WithTrackingName(TrackingNames.Repositories);

        var properties = context.SyntaxProvider
            .CreateSyntaxProvider(
                predicate: static (node, _) => node is PropertyDeclarationSyntax { Parent: ClassDeclarationSyntax } property
                    && property.Modifiers.Any(SyntaxKind.PartialKeyword),
                transform: Parser.ParseContextProperty)
            .Where(static property => property is not null)
            .Select(static (property, _) => property!)
            .WithTrackingName(TrackingNames.ContextProperties)
            .Collect()
            .Select(static (all, _) => new EquatableArray<ContextPropertySpec>(all))
            .WithTrackingName(TrackingNames.Contexts);

        context.RegisterSourceOutput(properties.Combine(repositories), static (spc, pair) => Emitter.EmitContexts(spc, pair.Left, pair.Right));
    }
}
