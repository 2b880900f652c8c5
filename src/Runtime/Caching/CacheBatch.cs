namespace TypedCache.Caching;

/// <summary>An engine's in-process level as a batch read sees it: one key at a time, at one instant.</summary>
/// <typeparam name="TKey">The generated key struct.</typeparam>
/// <typeparam name="T">The cached type.</typeparam>
internal interface ILocalLevel<TKey, T>
    where TKey : struct, ICacheKey<TKey>
    where T : class
{
    /// <summary>The in-process value of <paramref name="key"/>, when there is a live one.</summary>
    bool TryRead(in TKey key, out T? value);
}

/// <summary>The first step of a batch read, shared by the engines.</summary>
internal static class CacheBatch
{
    /// <summary>
    /// Reads each distinct key of <paramref name="keys"/> from <paramref name="level"/>: hits go into
    /// <paramref name="results"/>, and the misses come back in their first order (null when there are none).
    /// </summary>
    public static List<TKey>? Partition<TKey, T, TLevel>(IEnumerable<TKey> keys, TLevel level, Dictionary<TKey, T> results)
        where TKey : struct, ICacheKey<TKey>
        where T : class
        where TLevel : ILocalLevel<TKey, T>
    {
        ArgumentNullException.ThrowIfNull(keys);
        var seen = new HashSet<TKey>();
        List<TKey>? misses = null;
        foreach (var key in keys)
        {
            if (!seen.Add(key))
            {
                continue;
            }

            if (level.TryRead(key, out var value))
            {
                results[key] = value!;
            }
            else
            {
                (misses ??= []).Add(key);
            }
        }

        return misses;
    }
}
