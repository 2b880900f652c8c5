using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedCache.Load.Measure;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Proxies;

/// <summary>The figures of one proxy's load before or after the fault.</summary>
internal sealed class ProxyPhase
{
    public LatencyHistogram Latency { get; } = new();

    public long Operations { get; set; }

    public long Hits { get; set; }

    public long Misses { get; set; }

    public long NotStored { get; set; }

    public long Errors { get; set; }

    public TimeSpan Elapsed { get; set; }

    public double OperationsPerSecond => Elapsed <= TimeSpan.Zero ? 0 : Operations / Elapsed.TotalSeconds;
}

/// <summary>
/// The memcached-protocol load through one proxy: callers, each on its own connection, run a get/set mix on a Zipf
/// key set in a namespace of this proxy's own. Every value names its key and a version, and each key has one writer
/// (the caller whose index is the key modulo the callers), so a get can be checked: it must miss or return the key's
/// value at a version no older than the last one stored before the get began and no newer than the last one sent
/// before it ended. Anything else is a wrong value.
/// </summary>
internal sealed class ProxyLoad
{
    /// <summary>How long a caller waits for a reply before it counts an error and reconnects.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);
    private const int ValueBytes = 128;

    private readonly Lock _gate = new();
    private readonly long[] _sent;
    private readonly long[] _stored;
    private readonly List<string> _wrong = [];
    private readonly List<string> _errorMessages = [];
    private long _operations;
    private long _phaseStarted;
    private int _phase;

    public ProxyLoad(ProxyProcess proxy, string prefix, int keys)
    {
        Proxy = proxy;
        Prefix = prefix;
        _sent = new long[keys];
        _stored = new long[keys];
    }

    public ProxyProcess Proxy { get; }

    /// <summary>The namespace of this proxy's keys.</summary>
    public string Prefix { get; }

    public ProxyPhase[] Phases { get; } = [new(), new()];

    public long WrongValues { get; private set; }

    public IReadOnlyList<string> WrongExamples
    {
        get
        {
            lock (_gate)
                return [.. _wrong];
        }
    }

    public IReadOnlyList<string> ErrorMessages
    {
        get
        {
            lock (_gate)
                return [.. _errorMessages];
        }
    }

    public string Key(int key) => Prefix + key.ToString(CultureInfo.InvariantCulture);

    /// <summary>The value of <paramref name="key"/> at <paramref name="version"/>: key and version, padded to a fixed size.</summary>
    public byte[] Value(int key, long version)
    {
        var value = new byte[ValueBytes];
        value.AsSpan().Fill((byte)'.');
        Encoding.ASCII.GetBytes(FormattableString.Invariant($"{Key(key)}|{version}|"), value);
        return value;
    }

    /// <summary>The version <paramref name="value"/> holds for <paramref name="key"/>, or -1 when it is not a value this load wrote for that key.</summary>
    public long VersionOf(int key, ReadOnlySpan<byte> value)
    {
        string prefix = Key(key) + "|";
        if (value.Length != ValueBytes || !value.StartsWith(Encoding.ASCII.GetBytes(prefix)))
            return -1;
        var rest = value[prefix.Length..];
        int bar = rest.IndexOf((byte)'|');
        if (bar <= 0 || !long.TryParse(rest[..bar], NumberStyles.None, CultureInfo.InvariantCulture, out long version) || !value.SequenceEqual(Value(key, version)))
            return -1;
        return version;
    }

    /// <summary>Stores version 1 of every key through the proxy, on <paramref name="connections"/> connections.</summary>
    public Task FillAsync(int connections, CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, connections).Select(connection => Task.Run(async () =>
        {
            using var client = new TextProtocolClient(Proxy.Port, ReplyTimeout);
            for (int key = connection; key < _sent.Length; key += connections)
            {
                if (!await client.SetAsync(Key(key), Value(key, 1), cancellationToken))
                    throw new InvalidOperationException($"{Proxy.Name} did not store {Key(key)} before the load");
                _sent[key] = _stored[key] = 1;
            }
        }, cancellationToken)));

    /// <summary>
    /// Of the keys <paramref name="other"/> filled, how many read back through this proxy with their value: the same ring
    /// places them alike. A key missed once is read again after the pass: a ring that disagrees misses it every time,
    /// while a get that timed out on a busy machine (a miss through a proxy) does not.
    /// </summary>
    public async Task<int> FindAsync(ProxyLoad other, int connections, CancellationToken cancellationToken)
    {
        var missed = new ConcurrentBag<int>();
        await FindAsync(other, Enumerable.Range(0, _sent.Length).ToList(), connections, missed, cancellationToken);
        var again = new ConcurrentBag<int>();
        await FindAsync(other, [.. missed], connections, again, cancellationToken);
        return _sent.Length - again.Count;
    }

    private async Task FindAsync(ProxyLoad other, List<int> keys, int connections, ConcurrentBag<int> missed, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, connections).Select(connection => Task.Run(async () =>
        {
            using var client = new TextProtocolClient(Proxy.Port, ReplyTimeout);
            for (int i = connection; i < keys.Count; i += connections)
            {
                var get = await client.GetAsync(other.Key(keys[i]), cancellationToken);
                if (!get.Found || other.VersionOf(keys[i], get.Value.Span) != 1)
                    missed.Add(keys[i]);
            }
        }, cancellationToken)));

    /// <summary>Moves the figures to the after-the-fault phase from now on.</summary>
    public void StartAfterPhase()
    {
        lock (_gate)
        {
            Phases[0].Elapsed = Stopwatch.GetElapsedTime(_phaseStarted);
            _phaseStarted = Stopwatch.GetTimestamp();
            _phase = 1;
        }
    }

    /// <summary>Runs the callers until <paramref name="stop"/> or the operation budget; the meter feeds the load's timeline.</summary>
    public async Task RunAsync(int callers, OperationMix mix, double zipfExponent, long maxOperations, int seed, IntervalMeter meter, CancellationToken stop, CancellationToken cancellationToken)
    {
        if (_sent.Length < callers)
            throw new ArgumentException($"{_sent.Length} keys cannot give each of {callers} callers keys of its own to write", nameof(callers));
        var zipf = new ZipfKeys(_sent.Length, zipfExponent);
        _phaseStarted = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var random = new Random(seed * 1_000 + caller);
            using var client = new TextProtocolClient(Proxy.Port, ReplyTimeout);
            while (!stop.IsCancellationRequested && Interlocked.Increment(ref _operations) <= maxOperations)
            {
                int key = zipf.Next(random);
                bool read = random.Next(100) < mix.Read;
                if (!read)
                    key = OwnedKey(key, caller, callers);
                long started = Stopwatch.GetTimestamp();
                try
                {
                    var outcome = read ? await ReadAsync(client, key, cancellationToken) : await WriteAsync(client, key, cancellationToken);
                    meter.Record(started, read ? OperationKinds.Read(hit: outcome == Outcome.Hit) : OperationKind.Write);
                    Count(started, outcome, null);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    meter.Fail(e);
                    Count(started, Outcome.Error, e);
                }
            }
        }, cancellationToken)));
        lock (_gate)
            Phases[_phase].Elapsed = Stopwatch.GetElapsedTime(_phaseStarted);
    }

    /// <summary>The key nearest <paramref name="key"/> that <paramref name="caller"/> writes: each key has one writer, so its versions are in order.</summary>
    private int OwnedKey(int key, int caller, int callers)
    {
        int owned = key - key % callers + caller;
        return owned < _sent.Length ? owned : owned - callers;
    }

    private async Task<Outcome> ReadAsync(TextProtocolClient client, int key, CancellationToken cancellationToken)
    {
        long oldest = Volatile.Read(ref _stored[key]);
        var get = await client.GetAsync(Key(key), cancellationToken);
        if (!get.Found)
            return Outcome.Miss;
        long newest = Volatile.Read(ref _sent[key]);
        long version = get.Key.Span.SequenceEqual(Encoding.ASCII.GetBytes(Key(key))) ? VersionOf(key, get.Value.Span) : -1;
        if (version >= oldest && version <= newest)
            return Outcome.Hit;
        lock (_gate)
        {
            WrongValues++;
            if (_wrong.Count < 5)
                _wrong.Add($"get {Key(key)} returned '{Encoding.ASCII.GetString(get.Key.Span)}' = '{Encoding.ASCII.GetString(get.Value.Span).TrimEnd('.')}', expected a version from {oldest} to {newest}");
        }
        return Outcome.Wrong;
    }

    private async Task<Outcome> WriteAsync(TextProtocolClient client, int key, CancellationToken cancellationToken)
    {
        long version = _sent[key] + 1;
        Volatile.Write(ref _sent[key], version);
        if (!await client.SetAsync(Key(key), Value(key, version), cancellationToken))
            return Outcome.NotStored;
        Volatile.Write(ref _stored[key], version);
        return Outcome.Stored;
    }

    private void Count(long started, Outcome outcome, Exception? error)
    {
        int bucket = LatencyHistogram.BucketOf(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        lock (_gate)
        {
            var phase = Phases[_phase];
            switch (outcome)
            {
                case Outcome.Error:
                    phase.Errors++;
                    if (_errorMessages.Count < 5 && !_errorMessages.Contains(error!.Message))
                        _errorMessages.Add(error.Message);
                    return;
                case Outcome.Hit:
                    phase.Hits++;
                    break;
                case Outcome.Miss:
                    phase.Misses++;
                    break;
                case Outcome.NotStored:
                    phase.NotStored++;
                    break;
            }
            phase.Operations++;
            phase.Latency.Add(bucket, 1);
        }
    }

    private enum Outcome
    {
        Hit,
        Miss,
        Wrong,
        Stored,
        NotStored,
        Error,
    }
}
