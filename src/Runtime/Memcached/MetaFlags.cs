using System.Buffers.Text;

namespace TypedCache.Memcached;

/// <summary>The return flags of one meta response line (protocols.md §24), parsed in any order.</summary>
internal ref struct MetaFlags
{
    /// <summary><c>c</c>: the CAS, 0 when absent.</summary>
    public ulong Cas;
    /// <summary><c>f</c>: the client flags, 0 when absent.</summary>
    public uint ClientFlags;
    /// <summary><c>t</c>: remaining TTL, -1 for unlimited, 0 when absent.</summary>
    public long Ttl;
    /// <summary><c>s</c>: value size, -1 when absent.</summary>
    public long Size;
    /// <summary><c>O</c>: the opaque token as a number, -1 when absent.</summary>
    public long Opaque;
    /// <summary><c>k</c>: the echoed key, empty when absent.</summary>
    public ReadOnlySpan<byte> Key;
    /// <summary><c>W</c>, <c>Z</c>, <c>X</c>.</summary>
    public MetaResultFlags Lease;

    /// <summary>
    /// Parses space-separated flags. Returns <see langword="false"/> for a malformed token of a known flag (a number
    /// that is not one); unknown flags are skipped so that newer servers stay readable.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out MetaFlags flags)
    {
        flags = default;
        flags.Size = -1;
        flags.Opaque = -1;
        while (!text.IsEmpty)
        {
            int space = text.IndexOf((byte)' ');
            var token = space < 0 ? text : text[..space];
            text = space < 0 ? [] : text[(space + 1)..];
            if (token.IsEmpty)
                return false;
            var arg = token[1..];
            switch (token[0])
            {
                case (byte)'c':
                    if (!TryParseWhole(arg, out flags.Cas)) return false;
                    break;
                case (byte)'f':
                    if (!TryParseWhole(arg, out flags.ClientFlags)) return false;
                    break;
                case (byte)'t':
                    if (!TryParseWhole(arg, out flags.Ttl)) return false;
                    break;
                case (byte)'s':
                    if (!TryParseWhole(arg, out flags.Size)) return false;
                    break;
                case (byte)'O':
                    if (!TryParseWhole(arg, out uint opaque)) return false;
                    flags.Opaque = opaque;
                    break;
                case (byte)'k':
                    flags.Key = arg;
                    break;
                case (byte)'W':
                    flags.Lease |= MetaResultFlags.Won;
                    break;
                case (byte)'Z':
                    flags.Lease |= MetaResultFlags.LeaseTaken;
                    break;
                case (byte)'X':
                    flags.Lease |= MetaResultFlags.Stale;
                    break;
            }
        }
        return true;
    }

    private static bool TryParseWhole(ReadOnlySpan<byte> text, out ulong value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length && text.Length > 0;

    private static bool TryParseWhole(ReadOnlySpan<byte> text, out uint value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length && text.Length > 0;

    private static bool TryParseWhole(ReadOnlySpan<byte> text, out long value) =>
        Utf8Parser.TryParse(text, out value, out int used) && used == text.Length && text.Length > 0;
}
