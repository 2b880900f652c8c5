using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace TypedCache.Tests.Caching;

/// <summary>
/// A TypedCache.TestWorker process running <c>engine-serve</c>: a cache context in its own process, driven one
/// command line at a time over stdin/stdout. Disposing it kills the process by its PID.
/// </summary>
internal sealed class EngineWorker : IDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _errors = new();

    private EngineWorker(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
            {
                _errors.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int ProcessId => _process.Id;

    /// <summary>Starts a worker on the servers under key prefix and ZooKeeper root <paramref name="prefix"/>, and waits until it is ready.</summary>
    public static async Task<EngineWorker> StartAsync(EngineServers servers, string prefix)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(testOutput.Parent!.Parent!.Parent!.Parent!.FullName, "TypedCache.TestWorker", "bin", testOutput.Parent.Name, testOutput.Name, "TypedCache.TestWorker.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build the solution before running the tests.", dll);
        }

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "/usr/bin/dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { dll, "engine-serve", "--memcached", servers.Memcached.Endpoint, "--zookeeper", servers.ZooKeeper.ConnectString, "--prefix", prefix })
        {
            start.ArgumentList.Add(argument);
        }

        var worker = new EngineWorker(Process.Start(start)!);
        try
        {
            Assert.Equal("ready", await worker.ReadLineAsync());
            return worker;
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command and returns its reply line.</summary>
    public async Task<string> SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        return await ReadLineAsync();
    }

    /// <summary>Sends one command without waiting; read its reply with <see cref="ReadLineAsync"/>.</summary>
    public async Task PostAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
    }

    public async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout);
        try
        {
            return await _lines.Reader.ReadAsync(timeout.Token);
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            throw new InvalidOperationException($"The engine worker (PID {_process.Id}) gave no reply: {Errors()}", exception);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private string Errors()
    {
        lock (_errors)
        {
            return _errors.ToString();
        }
    }
}
