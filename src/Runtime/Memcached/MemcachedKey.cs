namespace TypedCache.Memcached;

/// <summary>Key rules of the meta protocol, checked before anything is written (protocols.md §27, §28).</summary>
internal static class MemcachedKey
{
    /// <summary>The longest key memcached accepts, measured on the wire (the base64 form for binary keys).</summary>
    public const int MaxLength = 250;

    /// <summary>The longest raw key that fits in <see cref="MaxLength"/> once base64-encoded.</summary>
    public const int MaxBinaryLength = MaxLength / 4 * 3;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the broken rule when <paramref name="key"/> is no valid text key.</summary>
    /// <remarks>
    /// Bytes 0x00–0x20 and 0x7F are refused: memcached splits its command line on spaces and accepts control bytes
    /// silently, so such a key would either be misread as flags or become a key nobody else can name. Bytes from 0x80 up
    /// (UTF-8) are allowed.
    /// </remarks>
    public static void ValidateText(ReadOnlySpan<byte> key, string parameterName = "key")
    {
        if (key.IsEmpty)
            throw new ArgumentException("A memcached key must be 1 to 250 bytes long; it is empty.", parameterName);
        if (key.Length > MaxLength)
            throw new ArgumentException($"A memcached key must be 1 to 250 bytes long; it is {key.Length} bytes. Use a binary (base64) key or a shorter key.", parameterName);
        int bad = key.IndexOfAnyInRange((byte)0x00, (byte)0x20);
        if (bad < 0)
            bad = key.IndexOf((byte)0x7F);
        if (bad >= 0)
            throw new ArgumentException($"A memcached key must not contain whitespace or control bytes; byte 0x{key[bad]:X2} at index {bad}. Use a binary (base64) key for arbitrary bytes.", parameterName);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the broken rule when <paramref name="key"/> cannot be sent as a base64 key.</summary>
    public static void ValidateBinary(ReadOnlySpan<byte> key, string parameterName = "key")
    {
        if (key.IsEmpty)
            throw new ArgumentException("A memcached key must be 1 to 250 bytes long; it is empty.", parameterName);
        if (key.Length > MaxBinaryLength)
            throw new ArgumentException($"A binary memcached key must be at most {MaxBinaryLength} bytes, so that its base64 form fits in 250 bytes; it is {key.Length} bytes.", parameterName);
    }

    /// <summary>Validates <paramref name="key"/> by the rules of its kind.</summary>
    public static void Validate(ReadOnlySpan<byte> key, bool binary, string parameterName = "key")
    {
        if (binary)
            ValidateBinary(key, parameterName);
        else
            ValidateText(key, parameterName);
    }
}
