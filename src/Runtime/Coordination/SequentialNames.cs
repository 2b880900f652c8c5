namespace TypedCache.Coordination;

/// <summary>
/// Names of sequential znodes: <c>{prefix}{marker}{10 digits}</c>, the digits possibly negative after the parent's
/// counter overflowed. Recipes keep only the children with their marker and sort them the way kazoo does.
/// </summary>
internal static class SequentialNames
{
    /// <summary>kazoo's <c>Lock</c> and <c>WriteLock</c> marker.</summary>
    public const string LockMarker = "__lock__";

    /// <summary>The event log's node prefix.</summary>
    public const string EventPrefix = "ev-";

    /// <summary>
    /// The sequence suffix of <paramref name="name"/> when it ends in <paramref name="marker"/> followed by 10 digits
    /// (optionally after a '-'): kazoo's <c>(?:__lock__)(-?\d{10})$</c>.
    /// </summary>
    public static bool TryGetSuffix(string name, string marker, out ReadOnlySpan<char> digits)
    {
        digits = default;
        ReadOnlySpan<char> span = name;
        if (span.Length < marker.Length + 10)
        {
            return false;
        }

        ReadOnlySpan<char> tail = span[^10..];
        foreach (char c in tail)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        int end = span.Length - 10;
        if (span[..end].EndsWith(marker, StringComparison.Ordinal))
        {
            digits = span[end..];
            return true;
        }

        if (end > marker.Length && span[end - 1] == '-' && span[..(end - 1)].EndsWith(marker, StringComparison.Ordinal))
        {
            digits = span[(end - 1)..];
            return true;
        }

        return false;
    }

    /// <summary>The sequence number of a name with <paramref name="marker"/>, or null.</summary>
    public static long? Sequence(string name, string marker) =>
        TryGetSuffix(name, marker, out ReadOnlySpan<char> digits) ? long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The children carrying <paramref name="marker"/>, sorted as kazoo sorts them: by the suffix's digit string
    /// (ordinal), which for zero-padded non-negative counters is numeric order.
    /// </summary>
    public static List<string> Sorted(IEnumerable<string> children, string marker)
    {
        var contenders = new List<string>();
        foreach (string child in children)
        {
            if (TryGetSuffix(child, marker, out _))
            {
                contenders.Add(child);
            }
        }

        contenders.Sort((a, b) =>
        {
            TryGetSuffix(a, marker, out ReadOnlySpan<char> x);
            TryGetSuffix(b, marker, out ReadOnlySpan<char> y);
            return x.SequenceCompareTo(y);
        });
        return contenders;
    }
}
