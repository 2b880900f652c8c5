using System.Diagnostics;
using System.Globalization;
using System.Text;
using TypedCache.Caching.Distributed;
using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Benchmarks.Caching;

/// <summary>
/// <c>engine-propagation [--services N] [--keys K] [--members M] [--warmup W]</c>: cross-service key invalidation
/// latency with a per-stage breakdown. One real memcached and a real ZooKeeper ensemble of M members; this process is
/// the writer (a <see cref="BenchCache"/> on both, calling <c>InvalidateAsync</c>), and N-1 reader processes (this
/// executable again, <c>engine-propagation-reader</c>) each follow the event log through the engine's coordination bus.
/// Samples are one at a time: each invalidation waits until every reader evicted it. All times are
/// <see cref="Stopwatch"/> timestamps (CLOCK_MONOTONIC, one clock for every process on the host), relative to the
/// moment the writer called <c>InvalidateAsync</c>.
/// </summary>
/// <remarks>
/// Stages: <b>acked</b> — <c>InvalidateAsync</c> returned (memcached delete done, event node created and acknowledged);
/// <b>notified</b> — the reader's event-log subscription saw the watch notification; <b>read</b> — the event's keys
/// were read; <b>evicted</b> — the engine's key handler ran (where the engine drops the key from its L1). Next to them,
/// after each sample, the writer times a bare ZooKeeper create (persistent-sequential, same size) and a bare getData
/// on its own client: ZooKeeper's own write and read latency on this machine at that moment.
/// </remarks>
internal static class PropagationBenchmark
{
    public const string ReaderMode = "engine-propagation-reader";

    public static async Task<int> RunAsync(string[] args)
    {
        var services = Option(args, "--services", 2);
        var keys = Option(args, "--keys", 500);
        var members = Option(args, "--members", 1);
        var warmup = Option(args, "--warmup", 50);
        if (services < 2)
        {
            throw new ArgumentException("--services must be at least 2: one writer and at least one reader.", nameof(args));
        }

        await using var memcached = await MemcachedServer.StartAsync();
        await using var zooKeeper = await ZooKeeperEnsemble.StartAsync(members);
        var root = "/typedcache/propagation-" + Guid.NewGuid().ToString("N")[..8];
        var readers = new List<Reader>();
        try
        {
            for (var i = 1; i < services; i++)
            {
                readers.Add(Reader.Start(zooKeeper.ConnectString, root));
            }

            foreach (var reader in readers)
            {
                await reader.ExpectAsync("ready");
            }

            await using var writer = new BenchCache(new CacheContextOptionsBuilder<BenchCache>()
                .UseMemcached(memcached.Endpoint)
                .UseZooKeeper(zooKeeper.ConnectString, root)
                .Options);
            await writer.Products.GetAsync(0); // connected
            await using var bare = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = zooKeeper.ConnectString });
            var barePath = root + "/bare";
            await bare.CreateAsync(barePath, Array.Empty<byte>(), CreateMode.Persistent);
            var payload = InvalidationBatch.Encode([new KeyInvalidation(nameof(Product), "0")]);

            var samples = new List<Sample>();
            var first = new List<double>();
            for (var i = 0; i < warmup + keys; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await writer.Products.InvalidateAsync(i);
                var acked = Stopwatch.GetTimestamp();
                var seen = new List<string[]>();
                foreach (var reader in readers)
                {
                    // "evicted KEY NOTIFIED READ EVICTED"
                    var words = (await reader.ExpectAsync("evicted")).Split(' ');
                    if (words[1] != i.ToString(CultureInfo.InvariantCulture))
                    {
                        throw new InvalidOperationException($"Reader {reader.ProcessId} evicted key {words[1]}, expected {i}.");
                    }

                    seen.Add(words);
                }

                var bareStart = Stopwatch.GetTimestamp();
                await bare.CreateAsync(barePath + "/n-", payload, CreateMode.PersistentSequential);
                var bareCreated = Stopwatch.GetTimestamp();
                await bare.GetDataAsync(barePath);
                var bareRead = Stopwatch.GetTimestamp();
                if (i == 0)
                {
                    first.AddRange(seen.Select(words => Ms(start, Long(words[4]))));
                }

                if (i >= warmup)
                {
                    samples.AddRange(seen.Select(words => new Sample(
                        Ms(start, acked),
                        Ms(start, Long(words[2])),
                        Ms(start, Long(words[3])),
                        Ms(start, Long(words[4])),
                        Ms(bareStart, bareCreated),
                        Ms(bareCreated, bareRead))));
                }
            }

            var gcs = new List<string>();
            foreach (var reader in readers)
            {
                await reader.SendAsync("exit");
                gcs.Add((await reader.ExpectAsync("gc"))[3..]);
            }

            Print(services, keys, warmup, members, zooKeeper, samples, gcs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first invalidation (cold: first use of the path in both processes): evicted after {string.Join(", ", first.Select(f => f.ToString("0.00", CultureInfo.InvariantCulture)))} ms"));
            return 0;
        }
        finally
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }

    /// <summary>The reader process: follows the event log through a coordination bus and reports each eviction.</summary>
    public static async Task<int> RunReaderAsync(string[] args)
    {
        var trace = new StageTrace();
        var evictions = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await using var bus = await CoordinationBus.StartAsync(
            new ZooKeeperSettings(Text(args, "--zookeeper"), Text(args, "--root")),
            new DistributedCacheOptions(),
            TimeProvider.System,
            (_, key) =>
            {
                var evicted = Stopwatch.GetTimestamp();
                evictions.Writer.TryWrite(string.Create(CultureInfo.InvariantCulture, $"evicted {Encoding.ASCII.GetString(key)} {trace.NotifiedAt} {trace.ReadAt} {evicted}"));
            },
            () => Console.Error.WriteLine("missed events"),
            (_, _, _) => { },
            CancellationToken.None,
            trace);
        Console.WriteLine("ready");
        var printer = Task.Run(async () =>
        {
            await foreach (var line in evictions.Reader.ReadAllAsync())
            {
                Console.WriteLine(line);
            }
        });
        while (await Console.In.ReadLineAsync() is { } line && line != "exit")
        {
        }

        evictions.Writer.TryComplete();
        await printer;
        Console.WriteLine($"gc {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)}");
        return 0;
    }

    private static void Print(int services, int keys, int warmup, int members, ZooKeeperEnsemble zooKeeper, List<Sample> samples, List<string> gcs)
    {
        Console.WriteLine($"{keys} key invalidations one at a time (after {warmup} unrecorded), 1 writer + {services - 1} reader process(es), " +
                          $"ZooKeeper {(members == 1 ? "standalone" : members + " members")} ({zooKeeper.ConnectString}), {Environment.ProcessorCount} cores; ms from the writer's InvalidateAsync call");
        Console.WriteLine("| stage | p50 | p90 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Row("acked (InvalidateAsync returned)", samples.Select(s => s.Acked));
        Row("notified (reader saw the watch event)", samples.Select(s => s.Notified));
        Row("read (reader has the event's keys)", samples.Select(s => s.Read));
        Row("**evicted** (reader's key handler ran)", samples.Select(s => s.Evicted));
        Row("step: read − notified", samples.Select(s => s.Read - s.Notified));
        Row("step: evicted − read", samples.Select(s => s.Evicted - s.Read));
        Row("bare ZooKeeper create (writer's own client)", samples.Select(s => s.BareCreate));
        Row("bare ZooKeeper getData (writer's own client)", samples.Select(s => s.BareRead));
        Console.WriteLine("The slowest 1% (ms): evicted = notified (writer, ZooKeeper, the reader's wake-up) + read − notified (getData) + evicted − read; the bare create right after:");
        foreach (var slow in samples.OrderByDescending(s => s.Evicted).Take(Math.Max(1, samples.Count / 100)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {slow.Evicted:0.00} = {slow.Notified:0.00} + {slow.Read - slow.Notified:0.00} + {slow.Evicted - slow.Read:0.00} (acked {slow.Acked:0.00}); bare create {slow.BareCreate:0.00}"));
        }

        Console.WriteLine($"reader GC counts (gen0 gen1 gen2): {string.Join("; ", gcs)}; writer: {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)}");
    }

    private static void Row(string name, IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Percentile(sorted, 0.50):0.00} | {Percentile(sorted, 0.90):0.00} | {Percentile(sorted, 0.99):0.00} | {sorted[^1]:0.00} |"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static long Long(string text) => long.Parse(text, CultureInfo.InvariantCulture);

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : throw new ArgumentException($"{name} is required.", nameof(args));
    }

    private sealed record Sample(double Acked, double Notified, double Read, double Evicted, double BareCreate, double BareRead);

    /// <summary>The reader's latest notification and read timestamps (samples are one at a time).</summary>
    private sealed class StageTrace : IEventLogTrace
    {
        private long _notifiedAt;
        private long _readAt;

        public long NotifiedAt => Volatile.Read(ref _notifiedAt);

        public long ReadAt => Volatile.Read(ref _readAt);

        public void Notified(long sequence) => Volatile.Write(ref _notifiedAt, Stopwatch.GetTimestamp());

        public void Read(long sequence) => Volatile.Write(ref _readAt, Stopwatch.GetTimestamp());
    }

    /// <summary>A reader process, started from this executable and stopped by its PID.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly Process _process;

        private Reader(Process process) => _process = process;

        public int ProcessId => _process.Id;

        public static Reader Start(string connectString, string root)
        {
            var self = Environment.ProcessPath!;
            var info = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                info.ArgumentList.Add(typeof(PropagationBenchmark).Assembly.Location);
            }

            foreach (var argument in (string[])[ReaderMode, "--zookeeper", connectString, "--root", root])
            {
                info.ArgumentList.Add(argument);
            }

            return new Reader(Process.Start(info)!);
        }

        public async Task SendAsync(string line) => await _process.StandardInput.WriteLineAsync(line);

        /// <summary>The next line, which must start with <paramref name="word"/>.</summary>
        public async Task<string> ExpectAsync(string word)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var line = await _process.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException($"Reader {_process.Id} exited (code {(_process.HasExited ? _process.ExitCode : -1)}).");
            return line.StartsWith(word, StringComparison.Ordinal)
                ? line
                : throw new InvalidOperationException($"Reader {_process.Id} said '{line}', expected '{word} ...'.");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(); // by PID: this process only
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
