using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Shop;

namespace Demo;

/// <summary>The <c>typedcache</c> command-line tool, built with the demo and run as a separate process.</summary>
internal sealed class TypedCacheTool(string zooKeeper, string root)
{
    private static readonly string Path = typeof(TypedCacheTool).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "TypedCacheCli").Value!;

    /// <summary>The command line a reader could type, for the output.</summary>
    public string CommandLine(params string[] arguments) => $"typedcache {string.Join(' ', arguments)} --zookeeper {zooKeeper} --root {root}";

    /// <summary>Runs one command to its end and returns what it printed; a failed command throws with its output.</summary>
    public async Task<string> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        using var process = Process.Start(Info(arguments)) ?? throw new InvalidOperationException($"could not start {Path}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`{CommandLine(arguments)}` exited with {process.ExitCode}: {await error}{await output}");
        return (await output).TrimEnd();
    }

    /// <summary>Starts <c>typedcache register</c> for one memcached server: it holds the server's znode while the server answers.</summary>
    public Registrar StartRegistrar(string memcached) =>
        new(Process.Start(Info(["register", "--memcached", memcached, "--check-interval", "250ms"]))
            ?? throw new InvalidOperationException($"could not start {Path}"));

    private ProcessStartInfo Info(string[] arguments)
    {
        if (!File.Exists(Path))
            throw new FileNotFoundException($"The typedcache tool is not built at {Path}; `dotnet run -c Release --project samples/Demo` builds it.", Path);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        foreach (var argument in (string[])["--zookeeper", zooKeeper, "--root", root])
            info.ArgumentList.Add(argument);
        return info;
    }
}

/// <summary>One running <c>typedcache register</c> process; its output lines are kept, and it is stopped by its PID.</summary>
internal sealed class Registrar : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public Registrar(Process process)
    {
        _process = process;
        ProcessId = process.Id;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int ProcessId { get; }

    /// <summary>Every line printed so far, oldest first.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>Waits until the registrar has printed <paramref name="count"/> lines starting with <paramref name="prefix"/>, and returns the last one.</summary>
    public async Task<string> WaitForLineAsync(string prefix, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var matching = _lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (matching.Count >= count)
                return matching[^1];
            if (_process.HasExited || deadline.Elapsed > timeout)
                throw new TimeoutException($"typedcache register (PID {ProcessId}) did not print '{prefix}' within {timeout.TotalSeconds} s; its output: {string.Join(" | ", _lines)}");
            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>SIGTERM by PID (the registrar removes its znode and exits), SIGKILL if it is still there after 5 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _ = kill(ProcessId, 15);
        await ShopProcess.WaitOrKillAsync(_process, TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SA1300, IDE1006 // libc's name
    private static extern int kill(int pid, int signal);
#pragma warning restore SA1300, IDE1006

    private void Keep(string? line)
    {
        if (line is not null)
            _lines.Enqueue(line);
    }
}
