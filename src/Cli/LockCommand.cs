using System.CommandLine;
using System.Diagnostics;
using TypedCache.Coordination;
using TypedCache.ZooKeeper;

namespace TypedCache.Cli;

/// <summary><c>lock</c>: holds a ZooKeeper lock (kazoo-compatible) for a script.</summary>
internal static class LockCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "The lock: a name under {root}/locks (e.g. orders/42), or an absolute ZooKeeper path." };
        var run = new Argument<string[]>("command") { Description = "A command to run while the lock is held (after --); the tool exits with its exit code.", Arity = ArgumentArity.ZeroOrMore };
        var wait = new Option<TimeSpan?>("--wait")
        {
            Description = "How long to wait for the lock (default: forever).",
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var hold = new Option<TimeSpan?>("--hold")
        {
            Description = "Hold the lock this long, then release it (default: until stdin closes or Ctrl+C).",
            CustomParser = r => CommonOptions.ParseDuration(r),
        };
        var command = new Command("lock", "Acquire a ZooKeeper lock, print its node and fencing token, hold it (or run a command under it), then release it.")
        { path, run, wait, hold };
        return command.WithAction(async (result, cancellationToken) =>
        {
            string name = result.GetValue(path)!;
            await using var client = await CommonOptions.ConnectZooKeeperAsync(result, cancellationToken);
            var root = await CommonOptions.OpenRootAsync(client, result, cancellationToken);
            string directory = name.StartsWith('/') ? name : $"{root.Locks}/{name.Trim('/')}";
            try
            {
                ZooKeeperPath.Validate(directory, "path");
            }
            catch (ArgumentException e)
            {
                throw CliError.BadUsage($"lock path '{name}': {e.Message}");
            }

            LockHandle held;
            try
            {
                held = await DistributedLock.AcquireAsync(root, directory, result.GetValue(wait) ?? Timeout.InfiniteTimeSpan, Environment.MachineName, cancellationToken);
            }
            catch (LockTimeoutException)
            {
                throw new CliError($"lock {directory} not acquired within {CommonOptions.Seconds(result.GetValue(wait)!.Value)}");
            }
            await using (held)
            {
                Console.Out.WriteLine($"acquired {held.NodePath} fencing-token {held.FencingToken}");
                Console.Out.Flush();
                int exitCode = result.GetValue(run) is { Length: > 0 } argv
                    ? await RunAsync(argv, held.LockLost, cancellationToken)
                    : await HoldAsync(result.GetValue(hold), held.LockLost, cancellationToken);
                if (held.LockLost.IsCancellationRequested)
                    throw new CliError($"lock {directory} lost: the ZooKeeper session expired while it was held");
                Console.Out.WriteLine($"released {held.NodePath}");
                return exitCode;
            }
        });
    }

    private static async Task<int> HoldAsync(TimeSpan? hold, CancellationToken lost, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(lost, cancellationToken);
        // A read of stdin does not end when its token is cancelled, so the wait for it is what the token cancels.
        Task until = hold is { } duration
            ? Task.Delay(duration, stop.Token)
            : Console.OpenStandardInput().CopyToAsync(Stream.Null, stop.Token).WaitAsync(stop.Token);
        try
        {
            await until;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return 0;
    }

    private static async Task<int> RunAsync(string[] argv, CancellationToken lost, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
        foreach (var argument in argv.Skip(1))
            start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CliError($"could not start '{argv[0]}'");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CliError($"could not start '{argv[0]}': {e.Message}");
        }
        using (process)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(lost, cancellationToken);
            try
            {
                await process.WaitForExitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                if (!lost.IsCancellationRequested)
                    return CliError.Interrupted;
            }
            return process.ExitCode;
        }
    }
}
