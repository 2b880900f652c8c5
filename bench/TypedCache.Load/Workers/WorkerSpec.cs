using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using TypedCache.Load.Measure;

namespace TypedCache.Load.Workers;

/// <summary>Which cache a worker drives.</summary>
internal enum LoadEngine
{
    /// <summary>TypedCache: memcached ring from ZooKeeper (or a static list), L1 in front.</summary>
    TypedCache,

    /// <summary>FusionCache 2.9: memory level plus Redis as its distributed level.</summary>
    FusionCache,

    /// <summary>FusionCache 2.9 as above plus its Redis backplane, which drops the key from every other instance's memory level.</summary>
    FusionCacheBackplane,

    /// <summary>Microsoft's HybridCache: local level plus Redis through StackExchangeRedis.</summary>
    HybridCache,
}

/// <summary>What one worker process does; passed to it as one JSON argument.</summary>
internal sealed record WorkerSpec
{
    public LoadEngine Engine { get; init; } = LoadEngine.TypedCache;

    public string? ZooKeeper { get; init; }

    public string Root { get; init; } = "/typedcache/load";

    public string[] Memcached { get; init; } = [];

    public string? Redis { get; init; }

    public int Keys { get; init; } = 10_000;

    /// <summary>TypedCache's in-process level per type; 0 turns it off.</summary>
    public int LocalCacheMaxEntries { get; init; } = 10_000;

    /// <summary>How long each loader call takes (a database read).</summary>
    public int LoaderDelayMilliseconds { get; init; }

    public double ZipfExponent { get; init; } = 0.99;

    public OperationMix Mix { get; init; } = new(90, 5, 5);

    public int Concurrency { get; init; } = 16;

    public long MaxOperations { get; init; } = long.MaxValue;

    public int Seed { get; init; } = 1;

    public int TickMilliseconds { get; init; } = 500;

    /// <summary>How long the worker runs the mix unmeasured before it reports ready (JIT, connections, L1).</summary>
    public int WarmupMilliseconds { get; init; } = 2000;

    public string ToArgument() => JsonSerializer.Serialize(this);

    public static WorkerSpec Parse(string json) =>
        JsonSerializer.Deserialize<WorkerSpec>(json) ?? throw new ArgumentException("the worker spec is empty", nameof(json));
}

/// <summary>The share of reads, writes and invalidations, in percent; they add up to 100.</summary>
internal sealed record OperationMix(int Read, int Write, int Invalidate)
{
    /// <summary>Parses <c>read:write:invalidate</c>, e.g. <c>90:5:5</c>.</summary>
    public static OperationMix Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, out int v) && v >= 0))
            throw new FormatException($"'{text}' is not a mix read:write:invalidate such as 90:5:5");
        var mix = new OperationMix(int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
        if (mix.Read + mix.Write + mix.Invalidate != 100)
            throw new FormatException($"the mix '{text}' adds up to {mix.Read + mix.Write + mix.Invalidate}, not 100");
        return mix;
    }

    public override string ToString() => $"{Read}:{Write}:{Invalidate}";
}

/// <summary>
/// One interval of one worker's figures, written as a <c>tick {json}</c> line: the latencies of each kind of operation
/// that occurred (sparse histograms, see <see cref="LatencyHistogram.ToSparse"/>), the errors, and the operations that
/// stalled (see <see cref="IntervalMeter.StallBound"/>).
/// </summary>
internal sealed record WorkerTick(long At, IReadOnlyDictionary<OperationKind, int[][]> Latency, long Errors, string? Error, long Stalled)
{
    private const string Prefix = "tick ";

    public string ToLine() => Prefix + JsonSerializer.Serialize(this);

    /// <summary>Reads a <c>tick {json}</c> line; false for any other line.</summary>
    public static bool TryParse(string line, [NotNullWhen(true)] out WorkerTick? tick)
    {
        tick = line.StartsWith(Prefix, StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<WorkerTick>(line.AsSpan(Prefix.Length)) ?? throw new InvalidDataException($"an empty tick: '{line}'")
            : null;
        return tick is not null;
    }
}
