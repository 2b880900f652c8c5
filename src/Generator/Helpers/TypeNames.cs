namespace TypedCache.Generator.Helpers;

/// <summary>Metadata and emitted names of the types the generator reads and writes against.</summary>
internal static class TypeNames
{
    public const string CachedAttribute = "TypedCache.CachedAttribute";
    public const string CacheKeyAttribute = "TypedCache.CacheKeyAttribute";
    public const string CacheIgnoreAttribute = "TypedCache.CacheIgnoreAttribute";
    public const string CacheContext = "TypedCache.CacheContext";

    public const string CacheRepository = "global::TypedCache.CacheRepository";
    public const string CacheContextGlobal = "global::TypedCache.CacheContext";
    public const string CacheTypeDescriptor = "global::TypedCache.Caching.CacheTypeDescriptor";
    public const string CacheKeyInterface = "global::TypedCache.Caching.ICacheKey";
    public const string CacheKeyWriter = "global::TypedCache.Caching.CacheKeyWriter";
    public const string CachePayload = "global::TypedCache.Caching.CachePayload";
    public const string MessagePackWriter = "global::MessagePack.MessagePackWriter";
    public const string MessagePackReader = "global::MessagePack.MessagePackReader";
    public const string MessagePackOptions = "global::MessagePack.MessagePackSerializerOptions";
    public const string FormatterInterface = "global::MessagePack.Formatters.IMessagePackFormatter";
    public const string ValueTask = "global::System.Threading.Tasks.ValueTask";
    public const string CancellationToken = "global::System.Threading.CancellationToken";
    public const string GeneratedCode = "[global::System.CodeDom.Compiler.GeneratedCode(\"TypedCache.Generator\", \"1.0.0\")]";
    public const string EditorBrowsableNever = "[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)]";
}
