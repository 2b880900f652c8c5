namespace TypedCache.Generator.Helpers;

/// <summary>Names of the pipeline's tracked steps, for tests that prove the steps are cached.</summary>
internal static class TrackingNames
{
    public const string CachedTypes = nameof(CachedTypes);
    public const string RepositoryDeclarations = nameof(RepositoryDeclarations);
    public const string Repositories = nameof(Repositories);
    public const string ContextProperties = nameof(ContextProperties);
    public const string Contexts = nameof(Contexts);
}
