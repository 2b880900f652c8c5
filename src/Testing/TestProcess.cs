namespace TypedCache.Testing;

/// <summary>
/// A process a test starts besides the servers (a peer client, a protocol checker, a script): registered with the
/// harness like its servers, so it is stopped by its PID when disposed, and when the test process exits if it never is.
/// Its stdout and stderr are kept (the last 16 KiB, interleaved) for the test's assertions and error messages.
/// </summary>
public sealed class TestProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private TestProcess(ChildProcess process) => _process = process;

    /// <summary>The PID, still known after the process exited.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the process has exited (or was stopped through this object).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The tail of what the process wrote to stdout and stderr so far.</summary>
    public string Output => _process.Output;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> (passed as they are, no shell).</summary>
    /// <exception cref="FileNotFoundException"><paramref name="fileName"/> does not exist.</exception>
    public static TestProcess Start(string fileName, IReadOnlyList<string> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        return new TestProcess(ChildProcess.Start(fileName, arguments));
    }

    /// <summary>Starts a process, waits for it to exit within <paramref name="timeout"/>, and returns its exit code and output.</summary>
    /// <exception cref="FileNotFoundException"><paramref name="fileName"/> does not exist.</exception>
    /// <exception cref="TimeoutException">The process did not exit in time; it has been killed by its PID.</exception>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await using var process = Start(fileName, arguments);
        int exitCode = await process.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false);
        return (exitCode, process.Output);
    }

    /// <summary>Waits until the process exits and its output is read to the end; returns its exit code.</summary>
    /// <exception cref="TimeoutException">The process did not exit within <paramref name="timeout"/>; it has been killed by its PID.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            string description = _process.Describe();
            await _process.KillAsync().ConfigureAwait(false);
            throw new TimeoutException($"No exit within {timeout.TotalSeconds:0.###} s: {description}");
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL by PID, then waits until the process is gone.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>Kills the process by its PID if it is still running, and releases it.</summary>
    public ValueTask DisposeAsync()
    {
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
