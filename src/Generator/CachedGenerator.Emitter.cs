using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using TypedCache.Generator.Diagnostics;
using TypedCache.Generator.Emitters;
using TypedCache.Generator.Helpers;
using TypedCache.Generator.Model;

namespace TypedCache.Generator;

public sealed partial class CachedGenerator
{
    /// <summary>Dispatches models to emitters and names the generated files.</summary>
    internal static class Emitter
    {
        public static void EmitCachedType(SourceProductionContext context, ParseResult result)
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            if (result.Spec is not { } spec)
            {
                return;
            }

            context.AddSource(spec.HintName + ".Serializer.g.cs", SourceText.From(SerializerEmitter.Emit(spec), Encoding.UTF8));
            context.AddSource(spec.HintName + ".Key.g.cs", SourceText.From(KeyEmitter.Emit(spec), Encoding.UTF8));
            context.AddSource(spec.HintName + ".Repo.g.cs", SourceText.From(RepositoryEmitter.Emit(spec), Encoding.UTF8));
        }

        public static void ReportDuplicateRepositories(SourceProductionContext context, EquatableArray<RepoDeclaration> declarations)
        {
            var byName = new Dictionary<string, RepoRef>(StringComparer.Ordinal);
            var byRepo = new Dictionary<string, RepoRef>(StringComparer.Ordinal);
            foreach (var declaration in declarations)
            {
                var repo = declaration.Repo;
                if (byName.TryGetValue(repo.CacheName, out var first) || byRepo.TryGetValue(repo.FullName, out first))
                {
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DuplicateCacheName,
                        declaration.Location?.ToLocation(),
                        first.TypeName,
                        repo.TypeName,
                        repo.FullName,
                        repo.CacheName));
                    continue;
                }

                byName[repo.CacheName] = repo;
                byRepo[repo.FullName] = repo;
            }
        }

        public static void EmitContexts(SourceProductionContext context, EquatableArray<ContextPropertySpec> properties, EquatableArray<RepoRef> repositories)
        {
            foreach (var group in properties.GroupBy(static p => p.ContextName, StringComparer.Ordinal))
            {
                var resolved = new List<(string Modifiers, string Name, string RepoType)>();
                ContextPropertySpec? first = null;
                foreach (var property in group)
                {
                    first ??= property;
                    if (!property.IsGetOnly)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(
                            DiagnosticDescriptors.RepositoryPropertyNotGetOnly, property.Location?.ToLocation(), property.PropertyName, group.Key));
                        continue;
                    }

                    var repo = Resolve(property, repositories);
                    if (repo is null)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(
                            DiagnosticDescriptors.RepositoryPropertyNotGenerated, property.Location?.ToLocation(), property.PropertyName, group.Key, property.RepoType));
                        continue;
                    }

                    resolved.Add((property.Modifiers, property.PropertyName, "global::" + repo.FullName));
                }

                if (first is not null && resolved.Count > 0)
                {
                    var hint = group.Key.Replace("global::", string.Empty).Replace('<', '_').Replace('>', '_') + ".CacheContext.g.cs";
                    context.AddSource(hint, SourceText.From(ContextEmitter.Emit(first.Namespace, first.Declarations, resolved), Encoding.UTF8));
                }
            }
        }

        private static RepoRef? Resolve(ContextPropertySpec property, EquatableArray<RepoRef> repositories)
        {
            if (property.TypeExists)
            {
                return null;
            }

            if (property.RepoType.Contains('.'))
            {
                return repositories.FirstOrDefault(r => r.FullName == property.RepoType);
            }

            var candidates = repositories.Where(r => r.RepoName == property.RepoType).ToList();
            return candidates.FirstOrDefault(r => r.Namespace == property.Namespace)
                ?? (candidates.Count == 1 ? candidates[0] : null);
        }
    }
}
