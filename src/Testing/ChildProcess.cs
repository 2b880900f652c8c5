using System.Diagnostics;
using System.Text;

namespace TypedCache.Testing;

/// <summary>
/// One server process started by the harness: registered in <see cref="ProcessRegistry"/>, its stdout and
/// stderr kept (the last <see cref="OutputLimit"/> characters) for error messages, stopped only by its PID.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private const int OutputLimit = 16 * 1024;

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private bool _disposed;

    private ChildProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    /// <summary>The PID, still known after the process exited or this object was disposed.</summary>
    public int Id { get; private set; }

    public string CommandLine { get; }

    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>The exit code, once <see cref="WaitForExitAsync"/> has completed.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The tail of what the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static ChildProcess Start(string fileName, IReadOnlyList<string> arguments, string? workingDirectory = null)
    {
        if (!File.Exists(fileName))
            throw new FileNotFoundException(
                $"{fileName} is not installed; scripts/setup installs the Debian packages TypedCache's tests need.", fileName);

        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process, fileName + " " + string.Join(' ', arguments));
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        child.Id = process.Id;
        ProcessRegistry.Add(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Completes when the process has exited and its output has been read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken ct) => _process.WaitForExitAsync(ct);

    /// <summary>SIGKILL by PID, then waits until the process is gone.</summary>
    public async Task KillAsync()
    {
        if (_disposed)
            return;
        SendKill();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        ProcessRegistry.Remove(Id);
    }

    /// <summary>SIGTERM by PID; SIGKILL if the process is still there after <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_disposed)
            return;
        if (!_process.HasExited)
            Native.Kill(Id, Native.SignalTerminate);

        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // Did not stop in time: killed below.
        }

        await KillAsync().ConfigureAwait(false);
    }

    /// <summary>A description of the process for an exception message: command line, exit code, output tail.</summary>
    public string Describe()
    {
        var state = _disposed ? "stopped" : _process.HasExited ? $"exited with code {_process.ExitCode}" : $"running as PID {Id}";
        var output = Output;
        return $"`{CommandLine}` {state}; its output:{Environment.NewLine}{(output.Length == 0 ? "(none)" : output)}";
    }

    /// <summary>Kills the process if it is still running, then releases it and forgets its PID.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        SendKill();
        _process.WaitForExit();
        _disposed = true;
        ProcessRegistry.Remove(Id);
        _process.Dispose();
    }

    private void SendKill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Exited on its own already.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
        {
            _output.AppendLine(line);
            if (_output.Length > OutputLimit)
                _output.Remove(0, _output.Length - OutputLimit);
        }
    }
}
