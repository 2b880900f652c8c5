using System.Buffers;
using System.Text;
using System.Threading.Tasks.Sources;

namespace TypedCache.Memcached;

/// <summary>Turns <c>CLIENT_ERROR</c>/<c>SERVER_ERROR</c> responses and <c>VA</c>/<c>HD</c> lines into results.</summary>
internal static class MetaResults
{
    /// <summary>The exception for an error response, or <see langword="null"/> when the response is no error.</summary>
    public static MemcachedException? ErrorFrom(in MetaResponse response, MemcachedConnection connection, string command) => response.Code switch
    {
        MetaResponseCode.ClientError => new MemcachedException(connection.Server, command, MemcachedErrorKind.ClientError, "CLIENT_ERROR " + Encoding.ASCII.GetString(response.Text)),
        MetaResponseCode.ServerError => new MemcachedException(connection.Server, command, MemcachedErrorKind.ServerError, "SERVER_ERROR " + Encoding.ASCII.GetString(response.Text)),
        _ => null,
    };

    /// <summary>A hit: copies the value and echoed key into one pooled buffer owned by the result.</summary>
    public static MemcachedGetResult Hit(in MetaResponse response, in MetaFlags flags)
    {
        int valueLength = response.Value.Length, keyLength = flags.Key.Length;
        byte[]? buffer = null;
        if (valueLength + keyLength > 0)
        {
            buffer = ArrayPool<byte>.Shared.Rent(valueLength + keyLength);
            response.Value.CopyTo(buffer);
            flags.Key.CopyTo(buffer.AsSpan(valueLength));
        }
        return new MemcachedGetResult(true, buffer, valueLength, keyLength, flags.ClientFlags, flags.Cas, flags.Ttl, flags.Size, flags.Lease);
    }

    /// <summary>A miss.</summary>
    public static MemcachedGetResult Miss => new(false, null, 0, 0, 0, 0, 0, -1, MetaResultFlags.None);

    /// <summary>The status of a storage, delete or arithmetic response, or <see langword="null"/> for any other code.</summary>
    public static MemcachedStatus? StatusOf(MetaResponseCode code) => code switch
    {
        MetaResponseCode.Header or MetaResponseCode.Value => MemcachedStatus.Success,
        MetaResponseCode.NotStored => MemcachedStatus.NotStored,
        MetaResponseCode.Exists => MemcachedStatus.Exists,
        MetaResponseCode.NotFound or MetaResponseCode.Miss => MemcachedStatus.NotFound,
        _ => null,
    };
}

/// <summary>One <c>mg</c>.</summary>
internal sealed class GetRequest : PooledRequest<MemcachedGetResult>
{
    private static readonly ObjectPool<GetRequest> s_pool = new(1024);

    public static GetRequest Rent(CancellationToken cancellationToken)
    {
        var request = s_pool.Rent();
        request.Start(cancellationToken);
        return request;
    }

    public override string Command => "mg";

    public override ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection)
    {
        switch (response.Code)
        {
            case MetaResponseCode.Value:
            case MetaResponseCode.Header:
                if (!MetaFlags.TryParse(response.Text, out var flags))
                    return ResponseOutcome.Unexpected;
                var hit = MetaResults.Hit(response, flags);
                if (!TrySetResult(hit))
                    hit.Dispose();
                return ResponseOutcome.Done;
            case MetaResponseCode.Miss:
                TrySetResult(MetaResults.Miss);
                return ResponseOutcome.Done;
            default:
                return FailWithError(response, connection);
        }
    }

    protected override void Recycle() => s_pool.Return(this);
}

/// <summary>
/// One <c>ms</c>, <c>md</c> or <c>ma</c>: a status, plus a CAS and a counter value when the server sends them. The
/// same pooled object is awaited as a store result or a bare status, so no wrapper task is allocated.
/// </summary>
internal sealed class StatusRequest : PooledRequest<MemcachedArithmeticResult>, IValueTaskSource<MemcachedStoreResult>, IValueTaskSource<MemcachedStatus>
{
    private static readonly ObjectPool<StatusRequest> s_pool = new(1024);
    private string _command = "";

    public static StatusRequest Rent(string command, CancellationToken cancellationToken)
    {
        var request = s_pool.Rent();
        request._command = command;
        request.Start(cancellationToken);
        return request;
    }

    public override string Command => _command;

    /// <summary>The caller's task, as a store result.</summary>
    public ValueTask<MemcachedStoreResult> StoreTask => new(this, Version);

    /// <summary>The caller's task, as a bare status.</summary>
    public ValueTask<MemcachedStatus> StatusTask => new(this, Version);

    MemcachedStoreResult IValueTaskSource<MemcachedStoreResult>.GetResult(short token)
    {
        var result = GetResult(token);
        return new MemcachedStoreResult(result.Status, result.Cas);
    }

    MemcachedStatus IValueTaskSource<MemcachedStatus>.GetResult(short token) => GetResult(token).Status;

    public override ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection)
    {
        if (MetaResults.ErrorFrom(response, connection, Command) is { } error)
        {
            TrySetException(error);
            return ResponseOutcome.Done;
        }
        if (MetaResults.StatusOf(response.Code) is not { } status || response.Code == MetaResponseCode.Miss
            || !MetaFlags.TryParse(response.Text, out var flags))
            return ResponseOutcome.Unexpected;
        ulong value = 0;
        if (response.Code == MetaResponseCode.Value
            && (!System.Buffers.Text.Utf8Parser.TryParse(response.Value, out value, out int used) || used != response.Value.Length))
            return ResponseOutcome.Unexpected;
        TrySetResult(new MemcachedArithmeticResult(status, value, flags.Cas));
        return ResponseOutcome.Done;
    }

    protected override void Recycle() => s_pool.Return(this);
}

/// <summary>
/// A batch of quiet <c>mg … O&lt;index&gt; q</c> closed by <c>mn</c>: hits come back tagged with their index, misses
/// are silent, and <c>MN</c> ends the batch. An error line carries no opaque, so it makes the whole batch fail (§26).
/// </summary>
internal sealed class BatchGetRequest : PooledRequest<MemcachedBatchGetResult>
{
    private static readonly ObjectPool<BatchGetRequest> s_pool = new(64);
    private MemcachedGetResult[] _results = [];
    private int _count;
    private MemcachedException? _error;

    public static BatchGetRequest Rent(int count, CancellationToken cancellationToken)
    {
        var request = s_pool.Rent();
        request._results = ArrayPool<MemcachedGetResult>.Shared.Rent(count);
        request._results.AsSpan(0, count).Fill(MetaResults.Miss);
        request._count = count;
        request._error = null;
        request.Start(cancellationToken);
        return request;
    }

    public override string Command => "mg batch";

    public override ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection)
    {
        switch (response.Code)
        {
            case MetaResponseCode.Value:
            case MetaResponseCode.Header:
                if (!MetaFlags.TryParse(response.Text, out var flags) || flags.Opaque < 0 || flags.Opaque >= _count
                    || _results[flags.Opaque].Found)
                    return ResponseOutcome.Unexpected;
                _results[flags.Opaque] = MetaResults.Hit(response, flags);
                return ResponseOutcome.More;
            case MetaResponseCode.Miss:
                return ResponseOutcome.More;
            case MetaResponseCode.NoOp:
                var results = new MemcachedBatchGetResult(_results, _count);
                _results = [];
                if (_error is not null)
                {
                    results.Dispose();
                    TrySetException(_error);
                }
                else if (!TrySetResult(results))
                {
                    results.Dispose();
                }
                return ResponseOutcome.Done;
            default:
                if (MetaResults.ErrorFrom(response, connection, Command) is not { } error)
                    return ResponseOutcome.Unexpected;
                _error ??= error;
                return ResponseOutcome.More;
        }
    }

    public override void OnFailure(Exception error)
    {
        if (_results.Length > 0)
        {
            new MemcachedBatchGetResult(_results, _count).Dispose();
            _results = [];
        }
        base.OnFailure(error);
    }

    protected override void Recycle() => s_pool.Return(this);
}

/// <summary>A classic or fence command answered by one line of a known code: <c>mn</c> → <c>MN</c>, <c>flush_all</c> → <c>OK</c>.</summary>
internal sealed class SimpleRequest(string command, MetaResponseCode expected) : PooledRequest<bool>
{
    public override string Command => command;

    public static SimpleRequest Create(string command, MetaResponseCode expected, CancellationToken cancellationToken)
    {
        var request = new SimpleRequest(command, expected);
        request.Start(cancellationToken);
        return request;
    }

    public override ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection)
    {
        if (response.Code == expected)
        {
            TrySetResult(true);
            return ResponseOutcome.Done;
        }
        return FailWithError(response, connection);
    }

    protected override void Recycle()
    {
    }
}

/// <summary><c>version</c> → <c>VERSION x</c>, or <c>stats [group]</c> → <c>STAT name value</c>… <c>END</c>.</summary>
internal sealed class TextRequest(string command) : PooledRequest<IReadOnlyDictionary<string, string>>
{
    private readonly Dictionary<string, string> _lines = new(StringComparer.Ordinal);

    public override string Command => command;

    public static TextRequest Create(string command, CancellationToken cancellationToken)
    {
        var request = new TextRequest(command);
        request.Start(cancellationToken);
        return request;
    }

    public override ResponseOutcome OnResponse(in MetaResponse response, MemcachedConnection connection)
    {
        switch (response.Code)
        {
            case MetaResponseCode.Version:
                _lines["version"] = Encoding.ASCII.GetString(response.Text);
                TrySetResult(_lines);
                return ResponseOutcome.Done;
            case MetaResponseCode.Stat:
                var text = Encoding.ASCII.GetString(response.Text);
                int space = text.IndexOf(' ', StringComparison.Ordinal);
                _lines[space < 0 ? text : text[..space]] = space < 0 ? "" : text[(space + 1)..];
                return ResponseOutcome.More;
            case MetaResponseCode.End:
                TrySetResult(_lines);
                return ResponseOutcome.Done;
            default:
                return FailWithError(response, connection);
        }
    }

    protected override void Recycle()
    {
    }
}
