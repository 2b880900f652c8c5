using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Benchmarks.Memcached;

/// <summary>
/// The memcached load run: one real memcached, and side by side in one run TypedCache's client against pylibmc
/// (libmemcached) and memcaslap, 100-byte values. Prints each pair and its ratio (TypedCache / peer).
/// </summary>
/// <remarks>Run with <c>bench/memcached-load.sh [seconds per measurement] [rounds]</c>.</remarks>
internal static partial class MemcachedLoad
{
    private const int KeyCount = 10_000;
    private const int ValueSize = 100;
    private const int Callers = 64;
    private const int BatchSize = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var duration = TimeSpan.FromSeconds(seconds);
        await using var server = await MemcachedServer.StartAsync(new MemcachedServerOptions { MemoryMegabytes = 256, ExtraArguments = { "-t", "4" } });
        await using var client = await MemcachedClient.ConnectAsync(server.Host, server.Port);
        var keys = Enumerable.Range(0, KeyCount).Select(i => (ReadOnlyMemory<byte>)Encoding.ASCII.GetBytes("key" + i)).ToArray();
        var value = new byte[ValueSize];
        Array.Fill(value, (byte)'x');
        foreach (var key in keys)
            await client.SetAsync(key.Span, value);

        Console.WriteLine($"memcached {await client.GetVersionAsync()} on {server.Endpoint}, {ValueSize} B values, {seconds} s per measurement, median of {rounds} alternating rounds, {Environment.ProcessorCount} cores");

        await CompareAsync("one caller, one get at a time (ops/s)", () => OneAtATimeAsync(client, keys, duration),
            "pylibmc get", () => PylibmcAsync(server, "single", seconds), rounds);
        await CompareAsync($"{Callers} callers on one connection, 9:1 get:set (ops/s)", () => ConcurrentAsync(client, keys, value, duration),
            $"memcaslap, {Callers} connections", () => MemcaslapAsync(server, seconds), rounds);
        await CompareAsync($"{BatchSize}-key batch get (keys/s)", () => BatchAsync(client, keys, duration),
            $"pylibmc get_multi({BatchSize})", () => PylibmcAsync(server, "multi", seconds), rounds);
        return 0;
    }

    /// <summary>
    /// Alternates the peer and TypedCache <paramref name="rounds"/> times and compares the medians, so that a burst of
    /// load from elsewhere on the machine skews one round, not the ratio.
    /// </summary>
    private static async Task CompareAsync(string what, Func<Task<double>> ours, string peer, Func<Task<double>> theirs, int rounds)
    {
        var mine = new List<double>();
        var peers = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            peers.Add(await theirs());
            mine.Add(await ours());
        }
        double m = Median(mine), p = Median(peers);
        Console.WriteLine($"{what}: TypedCache {m,10:N0}  {peer} {p,10:N0}  ratio {m / p:0.00}x   (rounds: {string.Join(" ", mine.Zip(peers, (a, b) => (a / b).ToString("0.00", CultureInfo.InvariantCulture)))})");
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }

    private static async Task<double> OneAtATimeAsync(MemcachedClient client, ReadOnlyMemory<byte>[] keys, TimeSpan duration)
    {
        long ops = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            for (int i = 0; i < 1000; i++, ops++)
            {
                using var result = await client.GetAsync(keys[(int)(ops % KeyCount)].Span);
                if (!result.Found)
                    throw new InvalidOperationException("load keys must all be present");
            }
        }
        return ops / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> ConcurrentAsync(MemcachedClient client, ReadOnlyMemory<byte>[] keys, byte[] value, TimeSpan duration)
    {
        long total = 0;
        var watch = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            long ops = 0;
            int k = c * 97;
            while (watch.Elapsed < duration)
            {
                for (int i = 0; i < 100; i++, ops++, k++)
                {
                    var key = keys[k % KeyCount];
                    if (ops % 10 == 9)
                    {
                        await client.SetAsync(key.Span, value);
                    }
                    else
                    {
                        using var result = await client.GetAsync(key.Span);
                    }
                }
            }
            Interlocked.Add(ref total, ops);
        }));
        await Task.WhenAll(callers);
        return total / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> BatchAsync(MemcachedClient client, ReadOnlyMemory<byte>[] keys, TimeSpan duration)
    {
        long found = 0, batches = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            for (int i = 0; i < 100; i++, batches++)
            {
                int start = (int)(batches * BatchSize % (KeyCount - BatchSize));
                using var results = await client.GetManyAsync(keys.AsSpan(start, BatchSize));
                for (int j = 0; j < results.Count; j++)
                    found += results[j].Found ? 1 : 0;
            }
        }
        if (found != batches * BatchSize)
            throw new InvalidOperationException("load keys must all be present");
        return found / watch.Elapsed.TotalSeconds;
    }

    private const string PylibmcScript = """
        import sys, time, pylibmc
        host, port, mode, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
        c = pylibmc.Client([host + ":" + port], behaviors={"tcp_nodelay": True})
        keys = ["key%d" % i for i in range(10000)]
        n = 0
        end = time.perf_counter() + seconds
        start = time.perf_counter()
        if mode == "single":
            while time.perf_counter() < end:
                for i in range(1000):
                    if c.get(keys[n % 10000]) is None:
                        raise SystemExit("miss")
                    n += 1
        else:
            b = 0
            while time.perf_counter() < end:
                for i in range(100):
                    s = b * 64 % (10000 - 64)
                    got = c.get_multi(keys[s:s + 64])
                    if len(got) != 64:
                        raise SystemExit("miss")
                    n += 64
                    b += 1
        print(n / (time.perf_counter() - start))
        """;

    private static async Task<double> PylibmcAsync(MemcachedServer server, string mode, int seconds)
    {
        var output = await RunAsync("/usr/bin/python3", ["-c", PylibmcScript, server.Host, server.Port.ToString(CultureInfo.InvariantCulture), mode, seconds.ToString(CultureInfo.InvariantCulture)]);
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task<double> MemcaslapAsync(MemcachedServer server, int seconds)
    {
        var output = await RunAsync("/usr/bin/memcaslap", ["-s", server.Endpoint, "-T", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            "-c", Callers.ToString(CultureInfo.InvariantCulture), "-X", ValueSize.ToString(CultureInfo.InvariantCulture), "-t", seconds + "s"]);
        var tps = TpsPattern().Match(output);
        if (!tps.Success)
            throw new InvalidOperationException("memcaslap printed no TPS: " + output);
        return double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"TPS: (\d+)")]
    private static partial Regex TpsPattern();

    private static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + program);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }
}
