using TypedCache.Load.Workers;

namespace TypedCache.Load;

/// <summary>Everything a load run is told: which scenarios, how long, how much load, where the servers are and where the report goes.</summary>
internal sealed record BenchSettings
{
    public IReadOnlyList<string> Scenarios { get; init; } = ["steady"];

    /// <summary>How long each scenario's load runs (each peer gets the same).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long each worker runs the mix unmeasured before a phase starts.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public int Workers { get; init; } = 2;

    public int Concurrency { get; init; } = 16;

    public int Keys { get; init; } = 10_000;

    public double ZipfExponent { get; init; } = 0.99;

    public OperationMix Mix { get; init; } = new(90, 5, 5);

    /// <summary>Each worker's operation budget: the run's bound by count.</summary>
    public long MaxOperations { get; init; } = 50_000_000;

    public bool Peers { get; init; } = true;

    /// <summary>Running memcached servers to use instead of starting three.</summary>
    public IReadOnlyList<string> Memcached { get; init; } = [];

    /// <summary>A running ZooKeeper ensemble to use instead of starting one.</summary>
    public string? ZooKeeper { get; init; }

    public string OutputDirectory { get; init; } = "";

    /// <summary>Where progress goes; null for a live Spectre.Console display on the terminal.</summary>
    public TextWriter? Log { get; init; }

    public int Seed { get; init; } = 1;
}
