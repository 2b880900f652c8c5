using System.Globalization;
using System.Text;
using TypedCache.Cluster;
using TypedCache.Testing;

namespace TypedCache.Tests.Cluster;

/// <summary>
/// The ring against the real peers it claims to match: keys are stored through nutcracker or libmemcached
/// (pylibmc) into real memcached servers, each server is asked which keys it holds, and the ring must name
/// that server for every key.
/// </summary>
public sealed class RingPeerComparisonTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Both scripts take the keys file (one a line), the result file and the servers; the result file is
    // written only on success, so a missing one means the script failed (its output says why).

    // Stores the keys with libmemcached's weighted ketama through pylibmc; the result is the count stored.
    private const string PylibmcSetScript = """
        import sys, pylibmc
        client = pylibmc.Client(sys.argv[3:], behaviors={"ketama_weighted": True})
        keys = [k for k in open(sys.argv[1], encoding="utf-8").read().split("\n") if k]
        failed = [k for k in keys if not client.set(k, b"v")]
        if failed:
            sys.exit("not stored: %r" % failed[:5])
        open(sys.argv[2], "w").write(str(len(keys)))
        """;

    // The result is, one a line, the server index libmemcached's memcached_generate_hash picks for each key.
    // It computes placement only and never connects, so servers need not exist.
    private const string LibmemcachedHashScript = """
        import sys, ctypes
        lib = ctypes.CDLL("libmemcached.so.11")
        lib.memcached_create.restype = ctypes.c_void_p
        lib.memcached_create.argtypes = [ctypes.c_void_p]
        lib.memcached_server_add_with_weight.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint16, ctypes.c_uint32]
        lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
        lib.memcached_generate_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.memcached_generate_hash.restype = ctypes.c_uint32
        MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 16
        memc = lib.memcached_create(None)
        for spec in sys.argv[3:]:
            host, port, weight = spec.rsplit(":", 2)
            if lib.memcached_server_add_with_weight(memc, host.strip("[]").encode(), int(port), int(weight)) != 0:
                sys.exit("could not add " + spec)
        if lib.memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != 0:
            sys.exit("could not set ketama_weighted")
        placed = []
        for key in open(sys.argv[1], encoding="utf-8").read().split("\n"):
            if key:
                data = key.encode("utf-8")
                placed.append(str(lib.memcached_generate_hash(memc, data, len(data))))
        open(sys.argv[2], "w").write("\n".join(placed))
        """;

    // The last argument puts the servers on memcached's default port (random 127.x.y.z:11211 addresses), whose
    // point names leave the port out; otherwise they are on free ports of 127.0.0.1 and the names keep the port.
    public static TheoryData<string, RingCompatibility, int[], string?[], bool> NutcrackerPools => new()
    {
        { "md5", RingCompatibility.TwemproxyMd5, [1, 2, 3], [null, "beta", null], false },
        { "fnv1a_64", RingCompatibility.TwemproxyFnv1a64, [1, 1, 2], [null, null, null], false },
        { "md5", RingCompatibility.TwemproxyMd5, [2, 1, 1], [null, null, null], true },
        { "fnv1a_64", RingCompatibility.TwemproxyFnv1a64, [1, 3, 1], [null, null, null], true },
    };

    [Theory]
    [MemberData(nameof(NutcrackerPools))]
    public async Task Ring_names_the_server_nutcracker_stored_each_key_on(string hash, RingCompatibility compatibility, int[] weights, string?[] names, bool defaultPort)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var ct = timeout.Token;
        await using var servers = await MemcachedGroup.StartAsync(3, defaultPort, ct);
        var nodes = servers.Nodes(weights, names);
        var specs = nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $"{n.Endpoint}:{n.Weight}{(n.Name is null ? "" : " " + n.Name)}"));
        var keys = RingTestKeys.Generate(1_000);

        await using (var nutcracker = await NutcrackerServer.StartAsync(specs, new NutcrackerServerOptions { Hash = hash }, ct))
        await using (var proxy = await TextProtocolConnection.ConnectAsync("127.0.0.1", nutcracker.Port, ct))
            await proxy.SetAllAsync(keys, ct);

        await servers.AssertPlacementAsync(KetamaRing.Create(nodes, compatibility), keys, ct);
    }

    // libmemcached's default-port naming is compared without servers in Ring_matches_libmemcached_placement_on_many_keys.
    [Fact]
    public async Task Ring_names_the_server_libmemcached_stored_each_key_on()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var ct = timeout.Token;
        await using var servers = await MemcachedGroup.StartAsync(3, defaultPort: false, ct);
        var nodes = servers.Nodes([1, 3, 2], [null, null, null]);
        var keys = RingTestKeys.Generate(1_000);

        string output = await RunPythonAsync(
            PylibmcSetScript, keys, nodes.Select(n => string.Create(CultureInfo.InvariantCulture, $"{n.Endpoint}:{n.Weight}")), ct);

        Assert.Equal("1000", output.Trim());
        await servers.AssertPlacementAsync(KetamaRing.Create(nodes, RingCompatibility.LibmemcachedWeighted), keys, ct);
    }

    public static TheoryData<string[]> LibmemcachedServerLists => new()
    {
        // The default port is left out of point names; the others keep theirs.
        { ["127.0.0.1:11211:1", "127.0.0.2:11211:1", "127.0.0.3:11212:2"] },
        // Weights whose point counts differ between single and double precision (28 versus 32 points).
        { ["127.0.0.1:11211:1", "127.0.0.2:11211:1", "127.0.0.3:11211:1", "127.0.0.4:11300:10", "127.0.0.5:11301:12"] },
        // IPv6 hosts are named without brackets, so "::1:11212" for a non-default port.
        { ["[::1]:11211:1", "[::1]:11212:2", "127.0.0.1:11211:1"] },
        { ["cache-a:11211:7", "cache-b:11211:1", "cache-c:11211:1", "localhost:11211:1", "127.0.0.1:11211:1", "127.0.0.1:21211:1", "cache-g:11211:1"] },
    };

    [Theory]
    [MemberData(nameof(LibmemcachedServerLists))]
    public async Task Ring_matches_libmemcached_placement_on_many_keys(string[] servers)
    {
        var ring = KetamaRing.Create(servers.Select(RingNode.Parse), RingCompatibility.LibmemcachedWeighted);
        var keys = RingTestKeys.Generate(20_000);

        using var timeout = new CancellationTokenSource(Timeout);
        string output = await RunPythonAsync(LibmemcachedHashScript, keys, servers, timeout.Token);

        var placed = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(keys.Count, placed.Length);
        var mismatches = keys.Where((key, i) => ring.GetNodeIndex(key) != placed[i]).ToArray();
        Assert.True(mismatches.Length == 0, $"{mismatches.Length} keys placed differently, e.g. {string.Join(", ", mismatches.Take(5))}");
    }

    /// <summary>
    /// Runs one of the scripts above with <paramref name="keys"/> in its keys file and returns its result file;
    /// throws with the script's output when it fails or outlives <paramref name="ct"/> (it is killed by PID then).
    /// </summary>
    private static async Task<string> RunPythonAsync(string script, IReadOnlyList<string> keys, IEnumerable<string> servers, CancellationToken ct)
    {
        var directory = Directory.CreateTempSubdirectory("typedcache-ring-");
        try
        {
            string input = Path.Combine(directory.FullName, "keys");
            string result = Path.Combine(directory.FullName, "result");
            await File.WriteAllTextAsync(input, string.Join('\n', keys), new UTF8Encoding(false), ct);
            using var process = ChildProcess.Start(Python, ["-c", script, input, result, .. servers]);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw new TimeoutException($"Still running at the deadline: {process.Describe()}");
            }

            return File.Exists(result)
                ? await File.ReadAllTextAsync(result, ct)
                : throw new InvalidOperationException($"Failed: {process.Describe()}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Real memcached servers started for one test and stopped by PID at its end.</summary>
    private sealed class MemcachedGroup : IAsyncDisposable
    {
        private readonly List<MemcachedServer> _servers = [];
        private readonly List<(string Host, int Port)> _addresses = [];

        private const int DefaultPortAttempts = 5;

        /// <summary>
        /// Starts <paramref name="count"/> servers; with <paramref name="defaultPort"/> each also listens on
        /// memcached's default port of a random loopback address (127.x.y.z, never 127.0.0.1) and is addressed
        /// there, so that parallel runs and a memcached on 127.0.0.1:11211 do not collide.
        /// </summary>
        public static async Task<MemcachedGroup> StartAsync(int count, bool defaultPort, CancellationToken ct)
        {
            var group = new MemcachedGroup();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var (server, host) = defaultPort ? await StartOnDefaultPortAsync(ct) : (await MemcachedServer.StartAsync(null, ct), null);
                    group._servers.Add(server);
                    group._addresses.Add(host is null ? (server.Host, server.Port) : (host, RingNode.DefaultPort));
                }

                return group;
            }
            catch
            {
                await group.DisposeAsync();
                throw;
            }
        }

        private static async Task<(MemcachedServer Server, string Host)> StartOnDefaultPortAsync(CancellationToken ct)
        {
            for (int attempt = 1; ; attempt++)
            {
                string host = string.Create(
                    CultureInfo.InvariantCulture, $"127.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(0, 256)}.{Random.Shared.Next(1, 255)}");
                var options = new MemcachedServerOptions();
                options.ExtraArguments.Add("-l");
                options.ExtraArguments.Add(string.Create(CultureInfo.InvariantCulture, $"{host}:{RingNode.DefaultPort}"));
                try
                {
                    return (await MemcachedServer.StartAsync(options, ct), host);
                }
                catch (InvalidOperationException) when (attempt < DefaultPortAttempts)
                {
                    // That address's default port is taken (or the draw repeated one): draw another.
                }
            }
        }

        public RingNode[] Nodes(int[] weights, string?[] names) =>
            _addresses.Select((a, i) => new RingNode(a.Host, a.Port, weights[i], names[i])).ToArray();

        /// <summary>Every key is held by exactly one server, and it is the one the ring names.</summary>
        public async Task AssertPlacementAsync(KetamaRing ring, IReadOnlyList<string> keys, CancellationToken ct)
        {
            var holders = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (int i = 0; i < _servers.Count; i++)
            {
                await using var connection = await TextProtocolConnection.ConnectAsync(_addresses[i].Host, _addresses[i].Port, ct);
                foreach (string key in await connection.HeldAsync(keys, ct))
                    (holders.TryGetValue(key, out var list) ? list : holders[key] = []).Add(i);
            }

            var wrong = keys
                .Where(k => !holders.TryGetValue(k, out var held) || held.Count != 1 || held[0] != ring.GetNodeIndex(k))
                .Select(k => $"{k} held by [{string.Join(",", holders.GetValueOrDefault(k) ?? [])}], ring says {ring.GetNodeIndex(k)}")
                .ToArray();
            Assert.True(wrong.Length == 0, $"{wrong.Length} of {keys.Count} keys misplaced, e.g.{Environment.NewLine}{string.Join(Environment.NewLine, wrong.Take(5))}");
            // Every server got a part of the keys, so the comparison exercised all three. The bounds are wide: with
            // weights 1:3:1 the heavy server's expected 60% moves by more than 10 points with the ports of the run.
            Assert.All(Enumerable.Range(0, _servers.Count), i => Assert.InRange(keys.Count(k => ring.GetNodeIndex(k) == i), keys.Count / 20, keys.Count - (keys.Count / 20)));
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var server in _servers)
                await server.DisposeAsync();
        }
    }
}
