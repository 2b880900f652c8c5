using TypedCache.Generator.Helpers;

namespace TypedCache.Generator.Model;

/// <summary>One valid <c>[Cached]</c> type, everything its emitters need.</summary>
/// <remarks>
/// Cached across compilations by the incremental pipeline: keep it immutable and structurally equal. Only
/// strings, primitives, enums, other specs and <see cref="EquatableArray{T}"/>; never ISymbol, SyntaxNode,
/// Location or Compilation.
/// </remarks>
/// <param name="Namespace">The namespace the generated types go in; empty for the global namespace.</param>
/// <param name="TypeName">The fully qualified name, <c>global::Shop.Product</c>.</param>
/// <param name="SimpleName">The type's own name, <c>Product</c>: generated types are <c>{SimpleName}Repo</c> and so on.</param>
/// <param name="HintName">The prefix of the generated files' hint names.</param>
/// <param name="Accessibility"><c>public</c> or <c>internal</c>, for the generated repository and key.</param>
/// <param name="CacheName">The name in keys.</param>
/// <param name="Types">The serialized types; the first is the cached type itself.</param>
internal sealed record CachedTypeSpec(
    string Namespace,
    string TypeName,
    string SimpleName,
    string HintName,
    string Accessibility,
    string CacheName,
    int TtlSeconds,
    int LocalTtlSeconds,
    EquatableArray<string> Tags,
    ulong SchemaHash,
    EquatableArray<KeyPartSpec> KeyParts,
    EquatableArray<TypeSpec> Types)
{
    public string RepoName => SimpleName + "Repo";

    public string KeyName => SimpleName + "Key";

    public string FormatterName => SimpleName + "CacheFormatter";

    public string Qualified(string generatedName) =>
        Namespace.Length == 0 ? "global::" + generatedName : "global::" + Namespace + "." + generatedName;
}

/// <summary>How a key part is written by <c>CacheKeyWriter</c>.</summary>
internal enum KeyWriteKind
{
    /// <summary>Passed as is: string, bool, char, Guid, DateTime, DateTimeOffset, TimeSpan.</summary>
    Direct,

    /// <summary>Cast to <c>long</c>: signed integers and enums over them.</summary>
    Signed,

    /// <summary>Cast to <c>ulong</c>: unsigned integers and enums over them.</summary>
    Unsigned,
}

/// <summary>One key part: a member of the cached type, in key order.</summary>
/// <remarks>Structurally equal; only strings and enums.</remarks>
internal sealed record KeyPartSpec(string MemberName, string ParameterName, string TypeName, bool IsString, KeyWriteKind WriteKind);

/// <summary>What a serialized type is, for the formatter emitter.</summary>
internal enum ValueKind
{
    Boolean,
    Byte,
    SByte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Single,
    Double,
    Char,
    String,
    Decimal,
    DateTime,
    DateTimeOffset,
    TimeSpan,
    Guid,
    ByteArray,
    Enum,
    Nullable,
    Array,
    List,
    Dictionary,
    ImmutableArray,
    Object,
}

/// <summary>
/// One type the formatter reads or writes. Primitives are written inline; the others (collections, nullables,
/// objects) get a pair of static methods named by <paramref name="Id"/>.
/// </summary>
/// <remarks>Structurally equal; types refer to each other by id, so recursive types terminate.</remarks>
/// <param name="Name">The fully qualified name, nullable-annotated inside but not at the top level.</param>
/// <param name="Element">The id of the element (array, list, immutable array, nullable) or value (dictionary) type.</param>
/// <param name="Key">The id of a dictionary's key type.</param>
/// <param name="EnumUnderlying">The underlying type of an enum, <c>int</c>.</param>
/// <param name="Members">An object's serialized members, in payload order.</param>
/// <param name="ConstructorMembers">Indices into <paramref name="Members"/> in constructor parameter order.</param>
internal sealed record TypeSpec(
    int Id,
    ValueKind Kind,
    string Name,
    bool IsValueType,
    int Element,
    int Key,
    string EnumUnderlying,
    EquatableArray<MemberSpec> Members,
    EquatableArray<int> ConstructorMembers)
{
    public bool HasMethods => Kind is ValueKind.Nullable or ValueKind.Array or ValueKind.List or ValueKind.Dictionary
        or ValueKind.ImmutableArray or ValueKind.Object;

    /// <summary>The name as a variable that may hold null: reference types get a <c>?</c>.</summary>
    public string NullableName => IsValueType ? Name : Name + "?";
}

/// <summary>One serialized member of an object.</summary>
/// <remarks>Structurally equal; only strings and primitives.</remarks>
/// <param name="Name">The member's name.</param>
/// <param name="Type">The id of its <see cref="TypeSpec"/>.</param>
/// <param name="InConstructor">Whether it is passed to the constructor (else set in the object initializer).</param>
internal sealed record MemberSpec(string Name, int Type, bool InConstructor);
