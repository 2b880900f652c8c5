using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace TypedCache.Cli.Tests;

/// <summary>One run of the built typedcache tool; killed by PID when disposed if it is still running.</summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(30);
    private static readonly Lazy<string> Tool = new(FindTool);

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;

    private CliProcess(IEnumerable<string> args)
    {
        // Through env(1), which execs dotnet in the same process with SIGINT back at its default disposition: a shell
        // starts a background job (`scripts/test &`) with SIGINT ignored, an ignored signal stays ignored across exec,
        // and the runtime then never sees the Ctrl+C these tests send.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Tool.Value);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _pumps = Task.WhenAll(Pump(_process.StandardOutput, _stdout), Pump(_process.StandardError, _stderr));
    }

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The tool's PID (<c>dotnet</c> runs the tool in its own process).</summary>
    public int ProcessId => _process.Id;

    public static CliProcess Start(params string[] args) => new(args);

    /// <summary>Runs the tool to completion (at most 30 s) with stdin closed.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        await using var run = Start(args);
        run.CloseInput();
        int code = await run.WaitForExitAsync();
        return (code, run.Stdout, run.Stderr);
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGINT, as Ctrl+C does.</summary>
    public void Interrupt() => Assert.Equal(0, Kill(_process.Id, 2));

    /// <summary>Sends SIGINT unless the process has exited already.</summary>
    public void TryInterrupt() => Kill(_process.Id, 2);

    /// <summary>Sends SIGTERM, as a service manager stopping the tool does.</summary>
    public void Terminate() => Assert.Equal(0, Kill(_process.Id, 15));

    public async Task<int> WaitForExitAsync()
    {
        using var limit = new CancellationTokenSource(RunLimit);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"typedcache did not exit within {RunLimit.TotalSeconds} s; stdout: {Stdout} stderr: {Stderr}");
        }
        await _pumps;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (into)
                into.AppendLine(line);
        }
    }

    private static string FindTool()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TypedCache.sln")))
            directory = directory.Parent;
        Assert.NotNull(directory);
        string tool = Path.Combine(directory.FullName, "src", "Cli", "bin", configuration, "net10.0", "TypedCache.Cli.dll");
        Assert.True(File.Exists(tool), $"the built tool is not at {tool}");
        return tool;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
