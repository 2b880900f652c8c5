using System.Diagnostics;
using System.Text;

namespace TypedCache.Tests.Cluster;

/// <summary>
/// A peer program the ring tests compare against (nutcracker, /usr/bin/python3): started with its
/// arguments, its stdout and stderr collected for failure messages, and always stopped by its own PID.
/// </summary>
internal sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly string _commandLine;

    private ExternalProcess(Process process, string commandLine)
    {
        _process = process;
        _commandLine = commandLine;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardOutput
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    /// <summary>The command line, its state and everything it wrote, for an assertion message.</summary>
    public string Report
    {
        get
        {
            string state = _process.HasExited ? $"exited with {_process.ExitCode}" : $"running as PID {_process.Id}";
            lock (_stderr) lock (_stdout)
                return $"`{_commandLine}` {state}{Environment.NewLine}stdout:{Environment.NewLine}{_stdout}stderr:{Environment.NewLine}{_stderr}";
        }
    }

    public static ExternalProcess Start(string executable, IEnumerable<string> arguments, string? standardInput = null)
    {
        if (!File.Exists(executable))
            throw new FileNotFoundException($"{executable} is missing; scripts/setup installs the Debian packages the tests compare against.", executable);

        var info = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);

        var process = new Process { StartInfo = info };
        var started = new ExternalProcess(process, $"{executable} {string.Join(' ', info.ArgumentList)}");
        process.OutputDataReceived += (_, e) => started.Collect(started._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => started.Collect(started._stderr, e.Data);
        process.Start();
        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            // Written as UTF-8 without a byte order mark, then closed so the program sees the end of its input.
            using (var input = new StreamWriter(process.StandardInput.BaseStream, new UTF8Encoding(false)))
                input.Write(standardInput ?? "");
            return started;
        }
        catch
        {
            started.Kill();
            process.WaitForExit();
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs a program to its end and returns its stdout; throws with its whole report when it fails or
    /// outlives <paramref name="timeout"/> (it is killed by PID then).
    /// </summary>
    public static async Task<string> RunAsync(string executable, IEnumerable<string> arguments, string standardInput, TimeSpan timeout)
    {
        await using var process = Start(executable, arguments, standardInput);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process._process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Still running after {timeout}: {process.Report}");
        }

        if (process._process.ExitCode != 0)
            throw new InvalidOperationException($"Failed: {process.Report}");
        return process.StandardOutput;
    }

    /// <summary>Kills the process by its PID (if it still runs) and waits until it is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    private void Collect(StringBuilder into, string? line)
    {
        if (line is null)
            return;
        lock (into)
            into.AppendLine(line);
    }
}
