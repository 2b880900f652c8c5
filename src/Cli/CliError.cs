namespace TypedCache.Cli;

/// <summary>A failure the tool reports as one line on stderr, with its exit code.</summary>
internal sealed class CliError(string message, int exitCode = CliError.Failure) : Exception(message)
{
    /// <summary>A server could not be reached, a lock not taken, a command not completed.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>The exit code of a command stopped by Ctrl+C or SIGTERM, the shell's code for an interrupt.</summary>
    public const int Interrupted = 130;

    public int ExitCode { get; } = exitCode;

    public static CliError BadUsage(string message) => new(message, Usage);
}
