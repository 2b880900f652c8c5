namespace TypedCache.Caching;

/// <summary>
/// The rule for the names that go verbatim into keys and ZooKeeper paths: key prefixes, type names and tags.
/// </summary>
internal static class CacheNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    public static void ThrowIfInvalid(string? name, string paramName)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"'{name}' is not a valid TypedCache name: use 1 to {MaxLength} ASCII letters, digits, '-', '_' or '.'.",
                paramName);
        }
    }
}
