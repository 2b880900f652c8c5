// getData/setData throughput of TypedCache's ZooKeeper client, the official Java client (ZkJavaBench.java, compiled
// here with javac against Debian's zookeeper jar) and kazoo's async API (kazoo_bench.py), side by side against one
// real 3-member ensemble, with 1 and 64 requests in flight. Usage (from the repository root):
//   dotnet run -c Release --project bench/ZooKeeperBench [-- <seconds per run> <rounds>]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

int seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
string here = SourceDirectory();
string classes = Directory.CreateTempSubdirectory("zkbench-").FullName;
string classPath = string.Join(':', new[]
{
    "zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar", "netty-handler.jar", "netty-transport.jar",
    "netty-common.jar", "netty-buffer.jar", "netty-resolver.jar", "netty-codec.jar", "netty-transport-native-unix-common.jar",
    "netty-transport-native-epoll.jar", "metrics-core.jar", "snappy-java.jar", "commons-cli.jar", "commons-io.jar",
}.Select(jar => Path.Combine("/usr/share/java", jar)).Where(File.Exists));

try
{
    await RunProcessAsync("javac", ["-d", classes, "-cp", classPath, Path.Combine(here, "ZkJavaBench.java")]);
    await using ZooKeeperEnsemble ensemble = await ZooKeeperEnsemble.StartAsync(3, new ZooKeeperEnsembleOptions { TickTimeMilliseconds = 500 });
    await ensemble.WaitForLeaderAsync(TimeSpan.FromSeconds(60));

    // Every client talks to the same member, so the cells compare clients, not members.
    string endpoint = ensemble.Endpoint((ensemble.LeaderIndex + 1) % ensemble.Count);
    const string path = "/bench";
    await using (ZooKeeperClient setup = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = endpoint }))
    {
        await setup.CreateAsync(path, new byte[100]);
    }

    // The servers' JIT warms up on the first requests, whoever sends them: warm them before any cell is measured.
    await RunOursAsync(endpoint, path, "set", 64, 2);
    await RunOursAsync(endpoint, path, "get", 64, 2);

    Console.WriteLine($"3-member ensemble, all clients on {endpoint}; {seconds} s per run, {rounds} round(s); ops/s (best of rounds)");
    Console.WriteLine($"{"cell",-16}{"TypedCache",12}{"Java",12}{"kazoo",12}{"x Java",9}{"x kazoo",9}");
    foreach (string op in new[] { "get", "set" })
    {
        foreach (int inFlight in new[] { 1, 64 })
        {
            double ours = 0, java = 0, kazoo = 0;
            for (int round = 0; round < rounds; round++)
            {
                // The order rotates between rounds so no client always runs first (or last) on a noisy machine.
                for (int turn = 0; turn < 3; turn++)
                {
                    switch ((turn + round) % 3)
                    {
                        case 0:
                            ours = Math.Max(ours, await RunOursAsync(endpoint, path, op, inFlight, seconds));
                            break;
                        case 1:
                            java = Math.Max(java, ParseRate(await RunProcessAsync("java", ["-cp", classes + ":" + classPath, "ZkJavaBench", endpoint, path, op, Invariant(inFlight), Invariant(seconds)])));
                            break;
                        default:
                            kazoo = Math.Max(kazoo, ParseRate(await RunProcessAsync("/usr/bin/python3", [Path.Combine(here, "kazoo_bench.py"), endpoint, path, op, Invariant(inFlight), Invariant(seconds)])));
                            break;
                    }
                }
            }

            string cell = $"{(op == "get" ? "getData" : "setData")} x{inFlight}";
            Console.WriteLine($"{cell,-16}{ours,12:N0}{java,12:N0}{kazoo,12:N0}{ours / java,9:0.00}{ours / kazoo,9:0.00}");
        }
    }
}
finally
{
    Directory.Delete(classes, recursive: true);
}

static async Task<double> RunOursAsync(string endpoint, string path, string op, int inFlight, int seconds)
{
    await using ZooKeeperClient client = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = endpoint });
    byte[] data = new byte[100];
    await Measure(TimeSpan.FromSeconds(1));
    return await Measure(TimeSpan.FromSeconds(seconds));

    async Task<double> Measure(TimeSpan duration)
    {
        long done = 0;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            while (stopwatch.Elapsed < duration)
            {
                if (op == "set")
                {
                    await client.SetDataAsync(path, data);
                }
                else
                {
                    await client.GetDataAsync(path);
                }

                Interlocked.Increment(ref done);
            }
        }));
        return done / stopwatch.Elapsed.TotalSeconds;
    }
}

static async Task<string> RunProcessAsync(string file, string[] arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (string argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    using Process process = Process.Start(start)!;
    try
    {
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}: {await error}");
        }

        return await output;
    }
    finally
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }
}

static double ParseRate(string output) => double.Parse(output.Trim().Split('\n')[^1], CultureInfo.InvariantCulture);

static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

static string SourceDirectory([CallerFilePath] string file = "") => Path.GetDirectoryName(file)!;
