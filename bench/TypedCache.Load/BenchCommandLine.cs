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
    public static Command Create(string name, Func<ParseResult, (IReadOnlyList<string> Memcached, string? ZooKeeper)> servers)
    {
        var scenario = new Option<string[]>("--scenario", "-s")
        {
            Description = $"Scenarios to run, comma-separated or repeated: {string.Join(", ", Scenario.All.Select(s => s.Name))} or all.",
            DefaultValueFactory = _ => ["steady"],
            AllowMultipleArgumentsPerToken = true,
        };
        var duration = new Option<TimeSpan>("--duration", "-d") { Description = "How long each scenario's load runs, e.g. 10s or 1m.", DefaultValueFactory = _ => TimeSpan.FromSeconds(60), CustomParser = ParseDuration };
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
            return await RunAsync(settings, "typedcache bench " + string.Join(' ', result.Tokens.Select(t => t.Value)), cancellationToken);
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
        var run = await BenchRunner.RunAsync(settings, commandLine, cancellationToken);
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

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        (string number, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ => (text, 1),
        };
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            return TimeSpan.FromSeconds(value * unit);
        result.AddError($"--duration: '{text}' is not a duration such as 10s or 1m.");
        return TimeSpan.Zero;
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
