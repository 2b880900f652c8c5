using System.Buffers;
using System.Globalization;
using System.Text;

namespace TypedCache.Memcached;

public sealed partial class MemcachedClient
{
    /// <summary>Reads an item with <c>mg</c>: value, client flags, CAS and remaining TTL, plus whatever <paramref name="options"/> asks for.</summary>
    /// <returns>The result; dispose it to return its value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">The key breaks a key rule (checked before anything is sent).</exception>
    public ValueTask<MemcachedGetResult> GetAsync(ReadOnlySpan<byte> key, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        MemcachedKey.Validate(key, options.BinaryKey);
        var write = new GetWrite(key, options);
        return Send(GetRequest.Rent(cancellationToken), ref write, cancellationToken);
    }

    /// <summary>Reads an item with <c>mg</c>; the key is sent as UTF-8.</summary>
    /// <returns>The result; dispose it to return its value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">The key breaks a key rule (checked before anything is sent).</exception>
    public ValueTask<MemcachedGetResult> GetAsync(string key, MemcachedGetOptions options = default, CancellationToken cancellationToken = default) =>
        GetAsync(Utf8Key(key, stackalloc byte[MaxUtf8KeyBytes]), options, cancellationToken);

    /// <summary>Stores an item with <c>ms</c>. The value is copied into the outgoing buffer before this method returns.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule, or the value cannot fit in an item (<see cref="MemcachedClientOptions.MaxItemSizeBytes"/>).</exception>
    public ValueTask<MemcachedStoreResult> SetAsync(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MemcachedStoreOptions options = default, CancellationToken cancellationToken = default)
    {
        MemcachedKey.Validate(key, options.BinaryKey);
        int limit = _options.MaxItemSizeBytes - ItemOverheadBytes - key.Length;
        if (value.Length > limit)
            throw new ArgumentException($"The value is {value.Length} bytes; an item of this key holds at most {limit} bytes (item size limit {_options.MaxItemSizeBytes} minus {ItemOverheadBytes} bytes of overhead minus the key).", nameof(value));
        if (options.Mode is < MemcachedStoreMode.Set or > MemcachedStoreMode.Prepend)
            throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "Unknown store mode.");
        var write = new SetWrite(key, value, options);
        var request = StatusRequest.Rent("ms", cancellationToken);
        var task = request.StoreTask;
        Write(request, ref write, cancellationToken);
        return task;
    }

    /// <summary>Stores an item with <c>ms</c>; the key is sent as UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule, or the value cannot fit in an item.</exception>
    public ValueTask<MemcachedStoreResult> SetAsync(string key, ReadOnlySpan<byte> value, MemcachedStoreOptions options = default, CancellationToken cancellationToken = default) =>
        SetAsync(Utf8Key(key, stackalloc byte[MaxUtf8KeyBytes]), value, options, cancellationToken);

    /// <summary>Deletes (or, with <see cref="MemcachedDeleteOptions.Invalidate"/>, invalidates) an item with <c>md</c>.</summary>
    /// <returns><see cref="MemcachedStatus.Success"/>, <see cref="MemcachedStatus.NotFound"/> or, with a CAS, <see cref="MemcachedStatus.Exists"/>.</returns>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<MemcachedStatus> DeleteAsync(ReadOnlySpan<byte> key, MemcachedDeleteOptions options = default, CancellationToken cancellationToken = default)
    {
        MemcachedKey.Validate(key, options.BinaryKey);
        var write = new DeleteWrite(key, options);
        var request = StatusRequest.Rent("md", cancellationToken);
        var task = request.StatusTask;
        Write(request, ref write, cancellationToken);
        return task;
    }

    /// <summary>Deletes (or invalidates) an item with <c>md</c>; the key is sent as UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<MemcachedStatus> DeleteAsync(string key, MemcachedDeleteOptions options = default, CancellationToken cancellationToken = default) =>
        DeleteAsync(Utf8Key(key, stackalloc byte[MaxUtf8KeyBytes]), options, cancellationToken);

    /// <summary>Adds <paramref name="delta"/> to a decimal counter with <c>ma</c> (wrapping at 2^64).</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    /// <exception cref="MemcachedException">The item is not a decimal number (<see cref="MemcachedErrorKind.ClientError"/>), among others.</exception>
    public ValueTask<MemcachedArithmeticResult> IncrementAsync(ReadOnlySpan<byte> key, ulong delta = 1, MemcachedArithmeticOptions options = default, CancellationToken cancellationToken = default) =>
        Arithmetic(key, increment: true, delta, options, cancellationToken);

    /// <summary>Adds to a counter with <c>ma</c>; the key is sent as UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<MemcachedArithmeticResult> IncrementAsync(string key, ulong delta = 1, MemcachedArithmeticOptions options = default, CancellationToken cancellationToken = default) =>
        Arithmetic(Utf8Key(key, stackalloc byte[MaxUtf8KeyBytes]), increment: true, delta, options, cancellationToken);

    /// <summary>Subtracts <paramref name="delta"/> from a decimal counter with <c>ma … MD</c> (stopping at 0).</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<MemcachedArithmeticResult> DecrementAsync(ReadOnlySpan<byte> key, ulong delta = 1, MemcachedArithmeticOptions options = default, CancellationToken cancellationToken = default) =>
        Arithmetic(key, increment: false, delta, options, cancellationToken);

    /// <summary>Subtracts from a counter with <c>ma … MD</c>; the key is sent as UTF-8.</summary>
    /// <exception cref="ArgumentException">The key breaks a key rule.</exception>
    public ValueTask<MemcachedArithmeticResult> DecrementAsync(string key, ulong delta = 1, MemcachedArithmeticOptions options = default, CancellationToken cancellationToken = default) =>
        Arithmetic(Utf8Key(key, stackalloc byte[MaxUtf8KeyBytes]), increment: false, delta, options, cancellationToken);

    /// <summary>
    /// Reads many items in one write: a quiet <c>mg … O&lt;i&gt; q</c> per key, closed by <c>mn</c>. Results come back in
    /// the order of <paramref name="keys"/>.
    /// </summary>
    /// <returns>The results; dispose the batch to return every value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">A key breaks a key rule (all are checked before anything is sent).</exception>
    /// <exception cref="MemcachedException">The server answered an error inside the batch: errors carry no opaque, so the whole batch fails.</exception>
    public ValueTask<MemcachedBatchGetResult> GetManyAsync(ReadOnlySpan<string> keys, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        Span<byte> scratch = stackalloc byte[MaxUtf8KeyBytes];
        for (int i = 0; i < keys.Length; i++)
            MemcachedKey.Validate(Utf8Key(keys[i], scratch, nameof(keys)), options.BinaryKey, nameof(keys));
        var write = new BatchWrite<StringKeys>(new StringKeys(keys), options);
        return Send(BatchGetRequest.Rent(keys.Length, cancellationToken), ref write, cancellationToken);
    }

    /// <summary>Reads many items in one write (quiet <c>mg</c> per key, closed by <c>mn</c>); results come back in the order of <paramref name="keys"/>.</summary>
    /// <returns>The results; dispose the batch to return every value buffer to the pool.</returns>
    /// <exception cref="ArgumentException">A key breaks a key rule (all are checked before anything is sent).</exception>
    /// <exception cref="MemcachedException">The server answered an error inside the batch.</exception>
    public ValueTask<MemcachedBatchGetResult> GetManyAsync(ReadOnlySpan<ReadOnlyMemory<byte>> keys, MemcachedGetOptions options = default, CancellationToken cancellationToken = default)
    {
        foreach (var key in keys)
            MemcachedKey.Validate(key.Span, options.BinaryKey, nameof(keys));
        var write = new BatchWrite<ByteKeys>(new ByteKeys(keys), options);
        return Send(BatchGetRequest.Rent(keys.Length, cancellationToken), ref write, cancellationToken);
    }

    /// <summary>Sends <c>mn</c> and waits for <c>MN</c>: every command sent before it has been answered.</summary>
    public async ValueTask NoOpAsync(CancellationToken cancellationToken = default)
    {
        var write = new LineWrite("mn"u8);
        await Send(SimpleRequest.Create("mn", MetaResponseCode.NoOp, cancellationToken), ref write, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The server's version string, such as <c>1.6.18</c>.</summary>
    public async ValueTask<string> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        var write = new LineWrite("version"u8);
        var lines = await Send(TextRequest.Create("version", cancellationToken), ref write, cancellationToken).ConfigureAwait(false);
        return lines["version"];
    }

    /// <summary>The server's statistics (<c>stats</c>), or one group of them such as <c>settings</c> or <c>slabs</c>.</summary>
    /// <exception cref="ArgumentException">The group is not a single word of letters.</exception>
    public ValueTask<IReadOnlyDictionary<string, string>> GetStatsAsync(string? group = null, CancellationToken cancellationToken = default)
    {
        if (group is not null && (group.Length is 0 or > 32 || !group.All(char.IsAsciiLetter)))
            throw new ArgumentException("A stats group is one word of ASCII letters, such as \"settings\".", nameof(group));
        var command = group is null ? "stats" : "stats " + group;
        var write = new LineWrite(Encoding.ASCII.GetBytes(command));
        return Send(TextRequest.Create(command, cancellationToken), ref write, cancellationToken);
    }

    /// <summary>Invalidates every item on the server (<c>flush_all</c>), now or after <paramref name="delaySeconds"/>.</summary>
    public async ValueTask FlushAllAsync(int delaySeconds = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delaySeconds);
        var write = new LineWrite(delaySeconds == 0 ? "flush_all"u8 : Encoding.ASCII.GetBytes("flush_all " + delaySeconds.ToString(CultureInfo.InvariantCulture)));
        await Send(SimpleRequest.Create("flush_all", MetaResponseCode.Ok, cancellationToken), ref write, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Bytes of an item that are not value or key, measured on memcached 1.6.18 with CAS (protocols.md §28).</summary>
    internal const int ItemOverheadBytes = 59;

    private ValueTask<MemcachedArithmeticResult> Arithmetic(ReadOnlySpan<byte> key, bool increment, ulong delta, in MemcachedArithmeticOptions options, CancellationToken cancellationToken)
    {
        MemcachedKey.Validate(key, options.BinaryKey);
        var write = new ArithmeticWrite(key, increment, delta, options);
        return Send(StatusRequest.Rent("ma", cancellationToken), ref write, cancellationToken);
    }

    private readonly ref struct GetWrite(ReadOnlySpan<byte> key, MemcachedGetOptions options) : IMetaWrite
    {
        private readonly ReadOnlySpan<byte> _key = key;

        public void WriteTo(IBufferWriter<byte> writer) => MetaRequestWriter.WriteGet(writer, _key, options);
    }

    private readonly ref struct SetWrite(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MemcachedStoreOptions options) : IMetaWrite
    {
        private readonly ReadOnlySpan<byte> _key = key;
        private readonly ReadOnlySpan<byte> _value = value;

        public void WriteTo(IBufferWriter<byte> writer) => MetaRequestWriter.WriteSet(writer, _key, _value, options);
    }

    private readonly ref struct DeleteWrite(ReadOnlySpan<byte> key, MemcachedDeleteOptions options) : IMetaWrite
    {
        private readonly ReadOnlySpan<byte> _key = key;

        public void WriteTo(IBufferWriter<byte> writer) => MetaRequestWriter.WriteDelete(writer, _key, options);
    }

    private readonly ref struct ArithmeticWrite(ReadOnlySpan<byte> key, bool increment, ulong delta, MemcachedArithmeticOptions options) : IMetaWrite
    {
        private readonly ReadOnlySpan<byte> _key = key;

        public void WriteTo(IBufferWriter<byte> writer) => MetaRequestWriter.WriteArithmetic(writer, _key, increment, delta, options);
    }

    private readonly ref struct LineWrite(ReadOnlySpan<byte> line) : IMetaWrite
    {
        private readonly ReadOnlySpan<byte> _line = line;

        public void WriteTo(IBufferWriter<byte> writer) => MetaRequestWriter.WriteLine(writer, _line);
    }

    /// <summary>The keys of a batch, whatever they are held in.</summary>
    private interface IBatchKeys
    {
        int Count { get; }

        ReadOnlySpan<byte> Get(int index, Span<byte> scratch);
    }

    private readonly ref struct StringKeys(ReadOnlySpan<string> keys) : IBatchKeys
    {
        private readonly ReadOnlySpan<string> _keys = keys;

        public int Count => _keys.Length;

        public ReadOnlySpan<byte> Get(int index, Span<byte> scratch) => scratch[..Encoding.UTF8.GetBytes(_keys[index], scratch)];
    }

    private readonly ref struct ByteKeys(ReadOnlySpan<ReadOnlyMemory<byte>> keys) : IBatchKeys
    {
        private readonly ReadOnlySpan<ReadOnlyMemory<byte>> _keys = keys;

        public int Count => _keys.Length;

        public ReadOnlySpan<byte> Get(int index, Span<byte> scratch) => _keys[index].Span;
    }

    private readonly ref struct BatchWrite<TKeys>(TKeys keys, MemcachedGetOptions options) : IMetaWrite
        where TKeys : IBatchKeys, allows ref struct
    {
        private readonly TKeys _keys = keys;

        public void WriteTo(IBufferWriter<byte> writer)
        {
            var scratch = ArrayPool<byte>.Shared.Rent(MaxUtf8KeyBytes);
            for (int i = 0; i < _keys.Count; i++)
                MetaRequestWriter.WriteGet(writer, _keys.Get(i, scratch), options, opaque: i, quiet: true);
            MetaRequestWriter.WriteNoOp(writer);
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
