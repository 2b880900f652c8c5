using System.Linq;
using TypedCache.Generator.Helpers;
using TypedCache.Generator.Model;

namespace TypedCache.Generator.Emitters;

/// <summary>
/// Emits <c>{Type}Key</c>: a <c>readonly struct</c> of the key's parts that compares and hashes itself and
/// writes its parts, escaped, into a span through <c>CacheKeyWriter</c>.
/// </summary>
internal static class KeyEmitter
{
    public static string Emit(CachedTypeSpec spec)
    {
        var w = EmitterHelpers.Begin(spec.Namespace);
        var key = spec.KeyName;
        var parts = spec.KeyParts;
        var parameters = string.Join(", ", parts.Select(static p => $"{p.TypeName} {p.ParameterName}"));

        w.WriteLine($"/// <summary>The key of a cached <see cref=\"{spec.TypeName}\"/>: its key parts, as a value.</summary>");
        w.WriteLine(TypeNames.GeneratedCode);
        w.OpenBlock($"{spec.Accessibility} readonly struct {key} : {TypeNames.CacheKeyInterface}<{key}>");

        w.WriteLine($"/// <summary>Creates the key from its parts.</summary>");
        w.OpenBlock($"public {key}({parameters})");
        foreach (var part in parts.Where(static p => p.IsString))
        {
            w.WriteLine($"global::System.ArgumentNullException.ThrowIfNull({part.ParameterName});");
        }

        foreach (var part in parts)
        {
            w.WriteLine($"{part.MemberName} = {part.ParameterName};");
        }

        w.CloseBlock();
        foreach (var part in parts)
        {
            w.WriteLine();
            w.WriteLine($"/// <summary>The key part <c>{part.MemberName}</c>.</summary>");
            w.WriteLine($"public {part.TypeName} {part.MemberName} {{ get; }}");
        }

        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine(TypeNames.EditorBrowsableNever);
        var lengths = string.Join(" + ", parts.Select(static p => $"{TypeNames.CacheKeyWriter}.MaxLength({Cast(p)}{p.MemberName})"));
        w.WriteLine($"public int MaxPartsLength => {lengths}{(parts.Count > 1 ? " + " + (parts.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty)};");
        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine(TypeNames.EditorBrowsableNever);
        w.OpenBlock("public int WriteParts(global::System.Span<byte> destination)");
        w.WriteLine("var position = 0;");
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                w.WriteLine($"destination[position++] = {TypeNames.CacheKeyWriter}.Separator;");
            }

            w.WriteLine($"{TypeNames.CacheKeyWriter}.Write(destination, ref position, {Cast(parts[i])}{parts[i].MemberName});");
        }

        w.WriteLine("return position;");
        w.CloseBlock();

        w.WriteLine();
        w.WriteLine($"/// <summary>The key of <paramref name=\"entity\"/>.</summary>");
        w.WriteLine($"public static {key} Of({spec.TypeName} entity) => new({string.Join(", ", parts.Select(static p => "entity." + p.MemberName))});");

        if (parts.Count == 1)
        {
            w.WriteLine();
            w.WriteLine($"/// <summary>The key whose only part is <paramref name=\"{parts[0].ParameterName.TrimStart('@')}\"/>.</summary>");
            w.WriteLine($"public static implicit operator {key}({parts[0].TypeName} {parts[0].ParameterName}) => new({parts[0].ParameterName});");
        }

        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        var equals = string.Join(" && ", parts.Select(static p => $"global::System.Collections.Generic.EqualityComparer<{p.TypeName}>.Default.Equals({p.MemberName}, other.{p.MemberName})"));
        w.WriteLine($"public bool Equals({key} other) => {equals};");
        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine($"public override bool Equals(object? obj) => obj is {key} other && Equals(other);");
        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.OpenBlock("public override int GetHashCode()");
        w.WriteLine("var hash = new global::System.HashCode();");
        foreach (var part in parts)
        {
            w.WriteLine($"hash.Add({part.MemberName});");
        }

        w.WriteLine("return hash.ToHashCode();");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("/// <summary>The key's parts as they appear in the cache key.</summary>");
        w.OpenBlock("public override string ToString()");
        w.WriteLine("var buffer = new byte[MaxPartsLength];");
        w.WriteLine("return global::System.Text.Encoding.ASCII.GetString(buffer, 0, WriteParts(buffer));");
        w.CloseBlock();
        w.WriteLine();
        w.WriteLine("/// <summary>Whether two keys are equal.</summary>");
        w.WriteLine($"public static bool operator ==({key} left, {key} right) => left.Equals(right);");
        w.WriteLine();
        w.WriteLine("/// <summary>Whether two keys differ.</summary>");
        w.WriteLine($"public static bool operator !=({key} left, {key} right) => !left.Equals(right);");
        w.CloseBlock();
        return EmitterHelpers.End(w, spec.Namespace);
    }

    private static string Cast(KeyPartSpec part) => part.WriteKind switch
    {
        KeyWriteKind.Signed => "(long)",
        KeyWriteKind.Unsigned => "(ulong)",
        _ => string.Empty,
    };
}
