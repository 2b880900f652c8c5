using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TypedCache.Load.Scenarios;
using TypedCache.Load.Workers;

namespace TypedCache.Load;

/// <summary>
/// The <c>bench</c> command: its options, the run, and the summary. The typedcache tool adds it as a subcommand
/// (its own --memcached and --zookeeper are passed in); the load tool's own entry point runs it as its root.
/// </summary>
internal static class BenchCommandLine
{
    /// <param name="name">The command's name.</param>
    /// <param name="servers">Reads the given memcached servers and ZooKeeper ensemble (none: the run starts its own).</param>
    /// <param name="parseDuration">Parses <c>--duration</c>: the typedcache tool's parser of 500ms, 5s, 2m.</param>
    public static Command Create(string name, Func<ParseResult, (IReadOnlyList<string> Memcached, string? ZooKeeper)> servers, Func<ArgumentResult, TimeSpan> parseDuration)
    {
        var scenario = new Option<string[]>("--scenario", "-s")
        {
            Description = $"Scenarios to run, comma-separated or repeated: {string.Join(", ", Scenario.All.Select(s => s.Name))} or all.",
            DefaultValueFactory = _ => ["steady"],
            AllowMultipleArgumentsPerToken = true,
        };
        var duration = new Option<TimeSpan>("--duration", "-d") { Description = "How long each scenario's load runs, e.g. 10s or 1m.", DefaultValueFactory = _ => TimeSpan.FromSeconds(60), CustomParser = parseDuration };
        var workers = new Option<int>("--workers", "-w") { Description = "Worker processes.", DefaultValueFactory = _ => 2 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "Concurrent callers in each worker.", DefaultValueFactory = _ => 16 };
        var keys = new Option<int>("--keys", "-k") { Description = "Distinct keys.", DefaultValueFactory = _ => 10_000 };
        var zipf = new Option<double>("--zipf") { Description = "The Zipf exponent of the key distribution (0 is uniform).", DefaultValueFactory = _ => 0.99 };
        var mix = new Option<OperationMix>("--mix") { Description = "Percent of reads:writes:invalidations.", DefaultValueFactory = _ => new OperationMix(90, 5, 5), CustomParser = ParseMix };
        var maxOps = new Option<long>("--max-ops") { Description = "Each worker's operation budget per phase.", DefaultValueFactory = _ => 50_000_000 };
        var peers = new Option<bool>("--no-peers") { Description = "Skip FusionCache and HybridCache on Redis." };
        var output = new Option<string?>("--out", "-o") { Description = "The report's folder. Default: artifacts/bench/<timestamp>." };
        var command = new Command(name, "Run the load and chaos scenarios against TypedCache (and its peers on Redis) and write a report with charts.")
        {
            scenario, duration, workers, concurrency, keys, zipf, mix, maxOps, peers, output,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            foreach (var (option, minimum) in (ReadOnlySpan<(Option<int>, int)>)[(workers, 1), (concurrency, 1), (keys, 1)])
            {
                if (result.GetValue(option) < minimum)
                    return Usage($"{option.Name} must be at least {minimum}");
            }
            if (result.GetValue(duration) <= TimeSpan.Zero)
                return Usage("--duration must be positive");
            var (memcached, zooKeeper) = servers(result);
            var settings = new BenchSettings
            {
                Scenarios = [.. result.GetValue(scenario)!.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                Duration = result.GetValue(duration),
                Workers = result.GetValue(workers),
                Concurrency = result.GetValue(concurrency),
                Keys = result.GetValue(keys),
                ZipfExponent = result.GetValue(zipf),
                Mix = result.GetValue(mix)!,
                MaxOperations = result.GetValue(maxOps),
                Peers = !result.GetValue(peers),
                Memcached = memcached,
                ZooKeeper = zooKeeper,
                OutputDirectory = result.GetValue(output) ?? Path.Combine("artifacts", "bench", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
                Log = Console.IsOutputRedirected ? Console.Out : null,
            };
            string tool = name == "bench" ? "typedcache" : "dotnet run -c Release --project bench/TypedCache.Load --";
            return await RunAsync(settings, $"{tool} {string.Join(' ', result.Tokens.Select(t => t.Value))}", cancellationToken);
        });
        return command;
    }

    public static async Task<int> RunAsync(BenchSettings settings, string commandLine, CancellationToken cancellationToken)
    {
        try
        {
            BenchRunner.Select(settings.Scenarios);
            if (settings.ZooKeeper is null && settings.Memcached.Count > 0)
                throw new ArgumentException("--memcached needs --zookeeper: the scenarios use ZooKeeper for membership, invalidation and locks");
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        BenchRun run;
        try
        {
            run = await BenchRunner.RunAsync(settings, commandLine, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("typedcache bench: interrupted");
            return 130;
        }
        foreach (var result in run.Results)
        {
            string verdict = result.SkippedBecause is not null ? "skipped" : result.Passed ? "pass" : "FAIL";
            Console.WriteLine($"{result.Name,-15} {verdict,-7} {string.Join(", ", result.Verdicts.Select(v => $"{v.Name} {v.Value}").Concat(result.Figures.Take(3).Select(f => $"{f.Name} {f.Value}")))}");
        }
        Console.WriteLine($"report: {run.ReportPath}; {run.Processes.Count} processes started, {run.LeftRunning.Count} left running");
        return run.Passed ? 0 : 1;
    }

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"typedcache bench: {message}");
        return 2;
    }

    private static OperationMix ParseMix(ArgumentResult result)
    {
        try
        {
            return OperationMix.Parse(result.Tokens.Count == 1 ? result.Tokens[0].Value : "");
        }
        catch (FormatException e)
        {
            result.AddError($"--mix: {e.Message}");
            return new OperationMix(100, 0, 0);
        }
    }
}
