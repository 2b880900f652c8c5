using TypedCache.Load;

namespace TypedCache.Load.Tests;

/// <summary>
/// One short run of every scenario (a few seconds each, a tiny key space, one worker process, the peers on Redis
/// included) shared by the smoke tests: the servers start once, as they do for <c>typedcache bench --scenario all</c>.
/// </summary>
public class SmokeRun : IAsyncLifetime
{
    private readonly StringWriter _log = new();
    private readonly string _scenario;

    public SmokeRun()
        : this("all")
    {
    }

    /// <summary>The same short run of one scenario.</summary>
    protected SmokeRun(string scenario) => _scenario = scenario;

    internal BenchRun Run { get; private set; } = null!;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "typedcache-load-smoke-" + Guid.NewGuid().ToString("N"));

    public string Log => _log.ToString();

    public async Task InitializeAsync()
    {
        var settings = new BenchSettings
        {
            Scenarios = [_scenario],
            Duration = TimeSpan.FromSeconds(2),
            Warmup = TimeSpan.FromMilliseconds(300),
            Workers = 1,
            Concurrency = 4,
            Keys = 200,
            OutputDirectory = Directory,
            Log = TextWriter.Synchronized(_log),
        };
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        Run = await BenchRunner.RunAsync(settings, "smoke", deadline.Token);
    }

    public Task DisposeAsync()
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}
