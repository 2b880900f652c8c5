using Microsoft.CodeAnalysis;

namespace TypedCache.Generator.Diagnostics;

/// <summary>Every diagnostic the generator reports. Ids are stable: never reuse or renumber one.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "TypedCache";

    public static readonly DiagnosticDescriptor TypeNotPartial = Error(
        "TC1001", "Cached type must be partial",
        "The cached type '{0}' must be declared partial; no cache code is generated for it");

    public static readonly DiagnosticDescriptor NoCacheKey = Error(
        "TC1002", "Cached type has no key",
        "The cached type '{0}' has no member marked [CacheKey]; mark the members that identify an entry");

    public static readonly DiagnosticDescriptor UnsupportedKeyType = Error(
        "TC1003", "Unsupported key part type",
        "The key part '{0}' of '{1}' has type '{2}', which cannot be a key part; use a string, an integer, bool, char, Guid, DateTime, DateTimeOffset, TimeSpan or an enum");

    public static readonly DiagnosticDescriptor UnsupportedMemberType = Error(
        "TC1004", "Unsupported member type",
        "The member '{0}' of '{1}' has type '{2}', which TypedCache cannot serialize; mark it [CacheIgnore] or use a supported type");

    public static readonly DiagnosticDescriptor DuplicateKeyOrder = Error(
        "TC1005", "Duplicate key order",
        "The key parts '{0}' and '{1}' of '{2}' both have Order = {3}; give each key part its own order");

    public static readonly DiagnosticDescriptor NonPositiveTtl = Error(
        "TC1006", "TTL must be positive",
        "The cached type '{0}' has {1} = {2}; TtlSeconds must be positive and LocalTtlSeconds positive or 0 (same as TtlSeconds)");

    public static readonly DiagnosticDescriptor InvalidTag = Error(
        "TC1007", "Invalid tag",
        "The cached type '{0}' has the tag '{1}'; a tag is 1 to 64 ASCII letters, digits, '-', '_' or '.'");

    public static readonly DiagnosticDescriptor RepositoryPropertyNotGenerated = Error(
        "TC1008", "Repository property type is not a generated repository",
        "The property '{0}' of the cache context '{1}' has type '{2}', which is not a repository TypedCache generates; use the {{Type}}Repo of a [Cached] type");

    public static readonly DiagnosticDescriptor InvalidCacheName = Error(
        "TC1009", "Invalid cache name",
        "The cached type '{0}' goes by the name '{1}' in keys, which is not 1 to 64 ASCII letters, digits, '-', '_' or '.'; set [Cached(Name = ...)]");

    public static readonly DiagnosticDescriptor TypeNotClass = Error(
        "TC1010", "Cached type must be a class",
        "The cached type '{0}' is a struct; [Cached] applies to classes and record classes");

    public static readonly DiagnosticDescriptor NoUsableConstructor = Error(
        "TC1011", "No usable constructor",
        "The type '{0}' has no accessible constructor whose parameters all match serialized members, nor a parameterless one; TypedCache cannot create it when reading");

    public static readonly DiagnosticDescriptor RepositoryPropertyNotGetOnly = Error(
        "TC1012", "Repository property must be get-only",
        "The repository property '{0}' of '{1}' must have only a get accessor");

    public static readonly DiagnosticDescriptor GenericType = Error(
        "TC1013", "Generic cached type",
        "The cached type '{0}' is generic, or nested in a generic type; cached types must be closed, non-generic types");

    public static readonly DiagnosticDescriptor TypeNotAccessible = Error(
        "TC1014", "Cached type not accessible",
        "The cached type '{0}' is private or protected; it must be public or internal, and so must the types it is nested in");

    public static readonly DiagnosticDescriptor DuplicateCacheName = Error(
        "TC1015", "Duplicate repository",
        "The cached types '{0}' and '{1}' both generate '{2}' (name '{3}'); set [Cached(Name = ...)] or rename one");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
}
