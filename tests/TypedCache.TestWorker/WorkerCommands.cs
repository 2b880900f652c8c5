namespace TypedCache.TestWorker;

/// <summary>The commands the worker runs: add an entry to <see cref="Commands"/> and a class with its RunAsync.</summary>
internal static class WorkerCommands
{
    private static readonly Dictionary<string, Func<WorkerArguments, Task>> Commands = new(StringComparer.Ordinal)
    {
        ["lock-contend"] = LockContend.RunAsync,
        ["engine-serve"] = EngineServe.RunAsync,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !Commands.TryGetValue(args[0], out Func<WorkerArguments, Task>? command))
        {
            await Console.Error.WriteLineAsync($"usage: TypedCache.TestWorker <{string.Join('|', Commands.Keys)}> [--name value]...").ConfigureAwait(false);
            return 2;
        }

        try
        {
            await command(WorkerArguments.Parse(args.AsSpan(1))).ConfigureAwait(false);
            Console.WriteLine($"{args[0]}: ok");
            return 0;
        }
#pragma warning disable CA1031 // The worker reports every failure to the test through stderr and its exit code.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"{args[0]}: failed: {ex}").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary><c>--name value</c> pairs.</summary>
internal sealed class WorkerArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static WorkerArguments Parse(ReadOnlySpan<string> args)
    {
        var parsed = new WorkerArguments();
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected `--name value` pairs, got '{args[i]}'.");
            }

            parsed._values[args[i][2..]] = args[i + 1];
        }

        return parsed;
    }

    public string Get(string name) =>
        _values.TryGetValue(name, out string? value) ? value : throw new ArgumentException($"Missing --{name}.");

    public int GetInt(string name) => int.Parse(Get(name), System.Globalization.CultureInfo.InvariantCulture);
}
