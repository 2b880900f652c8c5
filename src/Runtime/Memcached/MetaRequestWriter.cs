using System.Buffers;
using System.Buffers.Text;

namespace TypedCache.Memcached;

/// <summary>
/// Writes meta requests to an <see cref="IBufferWriter{T}"/>. Keys and values must already be validated
/// (<see cref="MemcachedKey"/>): the writer never fails halfway, so a request is on the wire whole or not at all.
/// </summary>
/// <remarks>Modifier flags (N, R, T) come before reporting flags (v, f, c, t), because the server applies them in order (§24).</remarks>
internal static class MetaRequestWriter
{
    /// <summary>Room for one command line: the command, a 250-byte key and every flag with a 20-digit token.</summary>
    private const int MaxLineLength = 3 + MemcachedKey.MaxLength + 16 * 22 + 2;

    /// <summary>Writes <c>mg &lt;key&gt; [b] [N] [R] [T] [v] f c t [s] [k] [u] [O] [q]</c>.</summary>
    public static void WriteGet(IBufferWriter<byte> output, ReadOnlySpan<byte> key, in MemcachedGetOptions options, long opaque = -1, bool quiet = false)
    {
        var line = LineWriter.Begin(output, "mg "u8, key, options.BinaryKey);
        line.WriteBinaryFlag(options.BinaryKey);
        line.WriteFlag((byte)'N', options.VivifyOnMissTtl);
        line.WriteFlag((byte)'R', options.RecacheBelowTtl);
        line.WriteFlag((byte)'T', options.TouchTtl);
        line.Write(options.MetadataOnly ? " f c t"u8 : " v f c t"u8);
        if (options.ReturnSize)
            line.Write(" s"u8);
        if (options.ReturnKey)
            line.Write(" k"u8);
        if (options.NoLruBump)
            line.Write(" u"u8);
        line.Finish(output, opaque, quiet);
    }

    /// <summary>Writes <c>ms &lt;key&gt; &lt;len&gt; [b] [M] [C] [I] [T] [F] [c] [O] [q]</c>, then the data block.</summary>
    public static void WriteSet(IBufferWriter<byte> output, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, in MemcachedStoreOptions options, long opaque = -1, bool quiet = false)
    {
        var line = LineWriter.Begin(output, "ms "u8, key, options.BinaryKey);
        line.Write((byte)' ');
        line.WriteNumber(value.Length);
        line.WriteBinaryFlag(options.BinaryKey);
        switch (options.Mode)
        {
            case MemcachedStoreMode.Add: line.Write(" ME"u8); break;
            case MemcachedStoreMode.Replace: line.Write(" MR"u8); break;
            case MemcachedStoreMode.Append: line.Write(" MA"u8); break;
            case MemcachedStoreMode.Prepend: line.Write(" MP"u8); break;
        }
        line.WriteFlag((byte)'C', options.CompareCas);
        if (options.Invalidate)
            line.Write(" I"u8);
        if (options.Ttl != 0)
            line.WriteFlag((byte)'T', (long)options.Ttl);
        if (options.ClientFlags != 0)
            line.WriteFlag((byte)'F', (long)options.ClientFlags);
        if (options.ReturnCas)
            line.Write(" c"u8);
        line.Finish(output, opaque, quiet);
        output.Write(value);
        output.Write("\r\n"u8);
    }

    /// <summary>Writes <c>md &lt;key&gt; [b] [C] [I] [T] [O] [q]</c>.</summary>
    public static void WriteDelete(IBufferWriter<byte> output, ReadOnlySpan<byte> key, in MemcachedDeleteOptions options, long opaque = -1, bool quiet = false)
    {
        var line = LineWriter.Begin(output, "md "u8, key, options.BinaryKey);
        line.WriteBinaryFlag(options.BinaryKey);
        line.WriteFlag((byte)'C', options.CompareCas);
        if (options.Invalidate)
            line.Write(" I"u8);
        line.WriteFlag((byte)'T', options.Ttl);
        line.Finish(output, opaque, quiet);
    }

    /// <summary>Writes <c>ma &lt;key&gt; [b] [N] [J] D&lt;delta&gt; [MD] [T] [C] v c</c>.</summary>
    public static void WriteArithmetic(IBufferWriter<byte> output, ReadOnlySpan<byte> key, bool increment, ulong delta, in MemcachedArithmeticOptions options)
    {
        var line = LineWriter.Begin(output, "ma "u8, key, options.BinaryKey);
        line.WriteBinaryFlag(options.BinaryKey);
        line.WriteFlag((byte)'N', options.AutoCreateTtl);
        if (options.AutoCreateTtl.HasValue && options.InitialValue != 0)
            line.WriteFlag((byte)'J', options.InitialValue);
        line.WriteFlag((byte)'D', delta);
        if (!increment)
            line.Write(" MD"u8);
        line.WriteFlag((byte)'T', options.Ttl);
        line.WriteFlag((byte)'C', options.CompareCas);
        line.Write(" v c"u8);
        line.Finish(output, opaque: -1, quiet: false);
    }

    /// <summary>Writes <c>mn</c>, the fence that ends a quiet batch.</summary>
    public static void WriteNoOp(IBufferWriter<byte> output) => output.Write("mn\r\n"u8);

    /// <summary>Writes a classic line command such as <c>version</c>, <c>stats settings</c> or <c>flush_all 10</c>.</summary>
    public static void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<byte> command)
    {
        output.Write(command);
        output.Write("\r\n"u8);
    }

    private ref struct LineWriter(Span<byte> span)
    {
        private readonly Span<byte> _span = span;

        public int Position { get; private set; }

        /// <summary>Starts a command line in <paramref name="output"/>'s buffer with the command and the key.</summary>
        public static LineWriter Begin(IBufferWriter<byte> output, ReadOnlySpan<byte> command, ReadOnlySpan<byte> key, bool binary)
        {
            var line = new LineWriter(output.GetSpan(MaxLineLength));
            line.Write(command);
            line.WriteKey(key, binary);
            return line;
        }

        /// <summary>The <c>b</c> flag of a base64 key; it goes after the positional tokens.</summary>
        public void WriteBinaryFlag(bool binary)
        {
            if (binary)
                Write(" b"u8);
        }

        /// <summary>Ends the line with the opaque and quiet flags and CRLF, and commits it to <paramref name="output"/>.</summary>
        public void Finish(IBufferWriter<byte> output, long opaque, bool quiet)
        {
            if (opaque >= 0)
                WriteFlag((byte)'O', opaque);
            if (quiet)
                Write(" q"u8);
            Write("\r\n"u8);
            output.Advance(Position);
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_span[Position..]);
            Position += bytes.Length;
        }

        public void Write(byte b) => _span[Position++] = b;

        private void WriteKey(ReadOnlySpan<byte> key, bool binary)
        {
            if (!binary)
            {
                Write(key);
                return;
            }
            Base64.EncodeToUtf8(key, _span[Position..], out _, out int written);
            Position += written;
        }

        public void WriteNumber(long value)
        {
            Utf8Formatter.TryFormat(value, _span[Position..], out int written);
            Position += written;
        }

        public void WriteNumber(ulong value)
        {
            Utf8Formatter.TryFormat(value, _span[Position..], out int written);
            Position += written;
        }

        public void WriteFlag(byte flag, long value)
        {
            Write((byte)' ');
            Write(flag);
            WriteNumber(value);
        }

        public void WriteFlag(byte flag, ulong value)
        {
            Write((byte)' ');
            Write(flag);
            WriteNumber(value);
        }

        public void WriteFlag(byte flag, int? value)
        {
            if (value.HasValue)
                WriteFlag(flag, (long)value.GetValueOrDefault());
        }

        public void WriteFlag(byte flag, ulong? value)
        {
            if (value.HasValue)
                WriteFlag(flag, value.GetValueOrDefault());
        }
    }
}
