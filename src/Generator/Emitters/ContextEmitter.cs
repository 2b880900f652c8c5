using System.Collections.Generic;
using TypedCache.Generator.Helpers;

namespace TypedCache.Generator.Emitters;

/// <summary>Emits the implementations of a cache context's <c>partial</c> repository properties.</summary>
internal static class ContextEmitter
{
    /// <param name="ns">The context's namespace.</param>
    /// <param name="declarations">The context and its containing types, outermost first.</param>
    /// <param name="properties">Each property's modifiers, name and resolved repository type.</param>
    public static string Emit(string ns, EquatableArray<string> declarations, IReadOnlyList<(string Modifiers, string Name, string RepoType)> properties)
    {
        var w = EmitterHelpers.Begin(ns);
        foreach (var declaration in declarations)
        {
            w.OpenBlock(declaration);
        }

        var first = true;
        foreach (var (modifiers, name, repoType) in properties)
        {
            if (!first)
            {
                w.WriteLine();
            }

            first = false;
            w.WriteLine($"private {repoType}? __typedCache{name};");
            w.WriteLine();
            w.WriteLine($"{modifiers} {repoType} {name}");
            w.OpenBlock().WriteLine($"get => __typedCache{name} ??= new {repoType}(this);").CloseBlock();
        }

        foreach (var _ in declarations)
        {
            w.CloseBlock();
        }

        return EmitterHelpers.End(w, ns);
    }
}
