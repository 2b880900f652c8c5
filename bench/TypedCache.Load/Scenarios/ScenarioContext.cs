using TypedCache.Benchmarks.Caching;
using TypedCache.Load.Measure;
using TypedCache.Load.Servers;
using TypedCache.Load.Workers;

namespace TypedCache.Load.Scenarios;

/// <summary>What a scenario works with: the settings, the servers, the process log, the progress display, and Redis for the peers.</summary>
internal sealed class ScenarioContext(BenchSettings settings, BenchCluster cluster, ProcessLog log, LiveProgress progress, CancellationToken cancellationToken) : IAsyncDisposable
{
    private RedisServer? _redis;

    public BenchSettings Settings { get; } = settings;

    public BenchCluster Cluster { get; } = cluster;

    public ProcessLog Log { get; } = log;

    public LiveProgress Progress { get; } = progress;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public TimeSpan Duration => Settings.Duration;

    /// <summary>The instant a third of the way into the load, where faults are injected.</summary>
    public TimeSpan FaultAt => Duration / 3;

    public WorkerSpec Spec(LoadEngine engine) => new()
    {
        Engine = engine,
        ZooKeeper = Cluster.ZooKeeperConnect,
        Root = Cluster.Root,
        Redis = _redis?.Endpoint,
        Keys = Settings.Keys,
        ZipfExponent = Settings.ZipfExponent,
        Mix = Settings.Mix,
        Concurrency = Settings.Concurrency,
        MaxOperations = Settings.MaxOperations,
        Seed = Settings.Seed,
        WarmupMilliseconds = (int)Settings.Warmup.TotalMilliseconds,
    };

    /// <summary>Starts Redis for the peers once per run.</summary>
    public async Task<string> RedisAsync()
    {
        if (_redis is null)
        {
            _redis = await RedisServer.StartAsync();
            Log.Add(_redis.ProcessId, $"redis-server {_redis.Endpoint}");
        }
        return _redis.Endpoint;
    }

    /// <summary>
    /// Runs the workers for <see cref="Duration"/> (or until their operation budget is spent) while
    /// <paramref name="during"/> injects faults, and returns the load's timeline.
    /// </summary>
    public async Task<Timeline> RunLoadAsync(string scenario, WorkerSpec spec, Func<Timeline, CancellationToken, Task>? during = null)
    {
        Timeline timeline;
        await using (var fleet = await WorkerFleet.StartAsync(spec, Settings.Workers, Log, CancellationToken))
        {
            timeline = fleet.Go();
            Progress.Track(scenario, spec.Engine.ToString(), timeline);
            var load = Task.WhenAny(Task.Delay(Duration, CancellationToken), fleet.Exited);
            await Task.WhenAll(load, during?.Invoke(timeline, CancellationToken) ?? Task.CompletedTask);
            CancellationToken.ThrowIfCancellationRequested();
        }
        Progress.Track(scenario, "", null);
        return timeline;
    }

    /// <summary>A TypedCache client in this process on the run's ZooKeeper and membership (or the servers given).</summary>
    public LoadCache OpenClient(int localCacheMaxEntries = 10_000, string? zooKeeper = null, IReadOnlyList<string>? memcached = null) =>
        TypedClients.Open(zooKeeper ?? Cluster.ZooKeeperConnect, Cluster.Root, memcached ?? [], localCacheMaxEntries);

    /// <summary>Waits until <paramref name="at"/> has passed since the timeline started.</summary>
    public Task UntilAsync(Timeline timeline, TimeSpan at)
    {
        var wait = TimeSpan.FromMilliseconds(timeline.StartedAt + at.TotalMilliseconds - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return wait > TimeSpan.Zero ? Task.Delay(wait, CancellationToken) : Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _redis?.Dispose();
        return ValueTask.CompletedTask;
    }
}
