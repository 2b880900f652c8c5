using System.Globalization;
using TypedCache.Generator.Helpers;
using TypedCache.Generator.Model;

namespace TypedCache.Generator.Emitters;

/// <summary>
/// Emits <c>{Type}CacheFormatter</c>: a MessagePack formatter written directly against
/// <c>MessagePackWriter</c>/<c>MessagePackReader</c>. An object is an array of its members in declaration
/// order; each collection, nullable or object type gets a <c>Write{id}</c>/<c>Read{id}</c> pair.
/// </summary>
internal static class SerializerEmitter
{
    private const string Writer = "writer";
    private const string Reader = "reader";

    public static string Emit(CachedTypeSpec spec)
    {
        var w = EmitterHelpers.Begin(spec.Namespace);
        var root = spec.Types[0];
        w.WriteLine($"/// <summary>The generated MessagePack formatter of <see cref=\"{root.Name}\"/>.</summary>");
        w.WriteLine(TypeNames.GeneratedCode);
        w.OpenBlock($"internal sealed class {spec.FormatterName} : {TypeNames.FormatterInterface}<{root.Name}>");
        w.WriteLine("/// <summary>The one instance; the formatter has no state.</summary>");
        w.WriteLine($"public static readonly {spec.FormatterName} Instance = new();");
        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine($"public void Serialize(ref {TypeNames.MessagePackWriter} {Writer}, {root.Name} value, {TypeNames.MessagePackOptions} options) => Write{Id(root)}(ref {Writer}, value);");
        w.WriteLine();
        w.WriteLine("/// <inheritdoc/>");
        w.WriteLine($"public {root.Name} Deserialize(ref {TypeNames.MessagePackReader} {Reader}, {TypeNames.MessagePackOptions} options) => Read{Id(root)}(ref {Reader})!;");
        foreach (var type in spec.Types)
        {
            if (type.HasMethods)
            {
                EmitWrite(w, spec, type);
                EmitRead(w, spec, type);
            }
        }

        w.CloseBlock();
        return EmitterHelpers.End(w, spec.Namespace);
    }

    private static string Id(TypeSpec type) => type.Id.ToString(CultureInfo.InvariantCulture);

    private static void EmitWrite(SourceWriter w, CachedTypeSpec spec, TypeSpec type)
    {
        w.WriteLine();
        w.OpenBlock($"private static void Write{Id(type)}(ref {TypeNames.MessagePackWriter} {Writer}, {type.NullableName} value)");
        if (type.Kind == ValueKind.ImmutableArray)
        {
            w.OpenBlock("if (value.IsDefault)").WriteLine($"{Writer}.WriteNil();").WriteLine("return;").CloseBlock();
            w.WriteLine();
        }
        else if (!type.IsValueType || type.Kind == ValueKind.Nullable)
        {
            w.OpenBlock("if (value is null)").WriteLine($"{Writer}.WriteNil();").WriteLine("return;").CloseBlock();
            w.WriteLine();
        }

        var element = type.Element >= 0 ? spec.Types[type.Element] : null;
        switch (type.Kind)
        {
            case ValueKind.Nullable:
                w.WriteLine(WriteStatement(spec, element!, "value.Value"));
                break;
            case ValueKind.Array:
            case ValueKind.ImmutableArray:
                w.WriteLine($"{Writer}.WriteArrayHeader(value.Length);");
                w.OpenBlock("foreach (var item in value)").WriteLine(WriteStatement(spec, element!, "item")).CloseBlock();
                break;
            case ValueKind.List:
                w.WriteLine($"{Writer}.WriteArrayHeader(value.Count);");
                w.OpenBlock("foreach (var item in value)").WriteLine(WriteStatement(spec, element!, "item")).CloseBlock();
                break;
            case ValueKind.Dictionary:
                w.WriteLine($"{Writer}.WriteMapHeader(value.Count);");
                w.OpenBlock("foreach (var pair in value)")
                    .WriteLine(WriteStatement(spec, spec.Types[type.Key], "pair.Key"))
                    .WriteLine(WriteStatement(spec, element!, "pair.Value"))
                    .CloseBlock();
                break;
            case ValueKind.Object:
                w.WriteLine($"{Writer}.WriteArrayHeader({type.Members.Count.ToString(CultureInfo.InvariantCulture)});");
                foreach (var member in type.Members)
                {
                    w.WriteLine(WriteStatement(spec, spec.Types[member.Type], "value." + member.Name));
                }

                break;
        }

        w.CloseBlock();
    }

    private static void EmitRead(SourceWriter w, CachedTypeSpec spec, TypeSpec type)
    {
        w.WriteLine();
        w.OpenBlock($"private static {type.NullableName} Read{Id(type)}(ref {TypeNames.MessagePackReader} {Reader})");
        if (type.Kind == ValueKind.ImmutableArray)
        {
            w.OpenBlock($"if ({Reader}.TryReadNil())").WriteLine("return default;").CloseBlock();
        }
        else if (!type.IsValueType || type.Kind == ValueKind.Nullable)
        {
            w.OpenBlock($"if ({Reader}.TryReadNil())").WriteLine("return null;").CloseBlock();
        }

        w.WriteLine();
        var element = type.Element >= 0 ? spec.Types[type.Element] : null;
        switch (type.Kind)
        {
            case ValueKind.Nullable:
                w.WriteLine($"return {ReadExpression(spec, element!)};");
                break;
            case ValueKind.Array:
                w.WriteLine($"var count = {Reader}.ReadArrayHeader();");
                w.WriteLine($"{element!.Name}[]? result = null;");
                w.WriteLine("global::System.Array.Resize(ref result, count);");
                w.OpenBlock("for (var i = 0; i < count; i++)").WriteLine($"result[i] = {ReadExpression(spec, element)}{Bang(element)};").CloseBlock();
                w.WriteLine("return result;");
                break;
            case ValueKind.ImmutableArray:
                w.WriteLine($"var count = {Reader}.ReadArrayHeader();");
                w.WriteLine($"var builder = global::System.Collections.Immutable.ImmutableArray.CreateBuilder<{element!.Name}>(count);");
                w.OpenBlock("for (var i = 0; i < count; i++)").WriteLine($"builder.Add({ReadExpression(spec, element)}{Bang(element)});").CloseBlock();
                w.WriteLine("return builder.MoveToImmutable();");
                break;
            case ValueKind.List:
                w.WriteLine($"var count = {Reader}.ReadArrayHeader();");
                w.WriteLine($"var result = new {type.Name}(count);");
                w.OpenBlock("for (var i = 0; i < count; i++)").WriteLine($"result.Add({ReadExpression(spec, element!)}{Bang(element!)});").CloseBlock();
                w.WriteLine("return result;");
                break;
            case ValueKind.Dictionary:
                var key = spec.Types[type.Key];
                w.WriteLine($"var count = {Reader}.ReadMapHeader();");
                w.WriteLine($"var result = new {type.Name}(count);");
                w.OpenBlock("for (var i = 0; i < count; i++)")
                    .WriteLine($"var key = {ReadExpression(spec, key)}{Bang(key)};")
                    .WriteLine($"result[key] = {ReadExpression(spec, element!)}{Bang(element!)};")
                    .CloseBlock();
                w.WriteLine("return result;");
                break;
            case ValueKind.Object:
                EmitReadObject(w, spec, type);
                break;
        }

        w.CloseBlock();
    }

    private static void EmitReadObject(SourceWriter w, CachedTypeSpec spec, TypeSpec type)
    {
        for (var i = 0; i < type.Members.Count; i++)
        {
            var memberType = spec.Types[type.Members[i].Type];
            w.WriteLine($"{memberType.NullableName} m{i.ToString(CultureInfo.InvariantCulture)} = default;");
        }

        w.WriteLine($"var count = {Reader}.ReadArrayHeader();");
        w.OpenBlock("for (var i = 0; i < count; i++)");
        w.OpenBlock("switch (i)");
        for (var i = 0; i < type.Members.Count; i++)
        {
            var memberType = spec.Types[type.Members[i].Type];
            w.WriteLine($"case {i.ToString(CultureInfo.InvariantCulture)}:").Indent()
                .WriteLine($"m{i.ToString(CultureInfo.InvariantCulture)} = {ReadExpression(spec, memberType)};")
                .WriteLine("break;").Unindent();
        }

        w.WriteLine("default:").Indent().WriteLine($"{Reader}.Skip();").WriteLine("break;").Unindent();
        w.CloseBlock();
        w.CloseBlock();
        w.WriteLine();

        var arguments = new System.Collections.Generic.List<string>();
        foreach (var index in type.ConstructorMembers)
        {
            arguments.Add(Local(spec, type, index));
        }

        var initializers = new System.Collections.Generic.List<string>();
        for (var i = 0; i < type.Members.Count; i++)
        {
            if (!type.Members[i].InConstructor)
            {
                initializers.Add($"{type.Members[i].Name} = {Local(spec, type, i)},");
            }
        }

        if (initializers.Count == 0)
        {
            w.WriteLine($"return new {type.Name}({string.Join(", ", arguments)});");
            return;
        }

        w.WriteLine($"return new {type.Name}({string.Join(", ", arguments)})");
        w.OpenBlock();
        foreach (var initializer in initializers)
        {
            w.WriteLine(initializer);
        }

        w.CloseBlock(";");
    }

    private static string Local(CachedTypeSpec spec, TypeSpec type, int index) =>
        "m" + index.ToString(CultureInfo.InvariantCulture) + Bang(spec.Types[type.Members[index].Type]);

    /// <summary>A reference read as nil into a non-nullable place stays null; the payload is ours, so it is trusted.</summary>
    private static string Bang(TypeSpec type) => type.IsValueType ? string.Empty : "!";

    private static string WriteStatement(CachedTypeSpec spec, TypeSpec type, string value)
    {
        if (type.HasMethods)
        {
            return $"Write{Id(type)}(ref {Writer}, {value});";
        }

        return type.Kind switch
        {
            ValueKind.Decimal or ValueKind.DateTime or ValueKind.DateTimeOffset or ValueKind.TimeSpan or ValueKind.Guid
                => $"{TypeNames.CachePayload}.Write(ref {Writer}, {value});",
            ValueKind.Enum => $"{Writer}.Write(({type.EnumUnderlying}){value});",
            _ => $"{Writer}.Write({value});",
        };
    }

    private static string ReadExpression(CachedTypeSpec spec, TypeSpec type)
    {
        if (type.HasMethods)
        {
            return $"Read{Id(type)}(ref {Reader})";
        }

        return type.Kind switch
        {
            ValueKind.Boolean => $"{Reader}.ReadBoolean()",
            ValueKind.Byte => $"{Reader}.ReadByte()",
            ValueKind.SByte => $"{Reader}.ReadSByte()",
            ValueKind.Int16 => $"{Reader}.ReadInt16()",
            ValueKind.UInt16 => $"{Reader}.ReadUInt16()",
            ValueKind.Int32 => $"{Reader}.ReadInt32()",
            ValueKind.UInt32 => $"{Reader}.ReadUInt32()",
            ValueKind.Int64 => $"{Reader}.ReadInt64()",
            ValueKind.UInt64 => $"{Reader}.ReadUInt64()",
            ValueKind.Single => $"{Reader}.ReadSingle()",
            ValueKind.Double => $"{Reader}.ReadDouble()",
            ValueKind.Char => $"{Reader}.ReadChar()",
            ValueKind.String => $"{Reader}.ReadString()",
            ValueKind.ByteArray => $"{TypeNames.CachePayload}.ReadBytes(ref {Reader})",
            ValueKind.Decimal => $"{TypeNames.CachePayload}.ReadDecimal(ref {Reader})",
            ValueKind.DateTime => $"{TypeNames.CachePayload}.ReadDateTime(ref {Reader})",
            ValueKind.DateTimeOffset => $"{TypeNames.CachePayload}.ReadDateTimeOffset(ref {Reader})",
            ValueKind.TimeSpan => $"{TypeNames.CachePayload}.ReadTimeSpan(ref {Reader})",
            ValueKind.Guid => $"{TypeNames.CachePayload}.ReadGuid(ref {Reader})",
            ValueKind.Enum => $"({type.Name}){ReadUnderlying(type.EnumUnderlying)}",
            _ => throw new System.InvalidOperationException("Unhandled kind " + type.Kind),
        };
    }

    private static string ReadUnderlying(string underlying) => underlying switch
    {
        "byte" => $"{Reader}.ReadByte()",
        "sbyte" => $"{Reader}.ReadSByte()",
        "short" => $"{Reader}.ReadInt16()",
        "ushort" => $"{Reader}.ReadUInt16()",
        "uint" => $"{Reader}.ReadUInt32()",
        "long" => $"{Reader}.ReadInt64()",
        "ulong" => $"{Reader}.ReadUInt64()",
        _ => $"{Reader}.ReadInt32()",
    };
}
