using System.CommandLine;
using TypedCache.Memcached;
using TypedCache.ZooKeeper;

namespace TypedCache.Cli;

internal static class CliAction
{
    /// <summary>Sets <paramref name="action"/> on <paramref name="command"/>, turning every failure into one line on stderr and an exit code.</summary>
    public static Command WithAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                return await action(result, cancellationToken);
            }
            catch (CliError e)
            {
                return Fail(e.Message, e.ExitCode);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail("interrupted", CliError.Interrupted);
            }
            catch (Exception e) when (e is KeeperException or MemcachedException or TimeoutException or IOException)
            {
                return Fail(e.Message, CliError.Failure);
            }
        });
        return command;
    }

    public static int Fail(string message, int exitCode = CliError.Failure)
    {
        Console.Error.WriteLine($"typedcache: {message}");
        return exitCode;
    }
}
