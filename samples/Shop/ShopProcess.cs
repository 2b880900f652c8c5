using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Shop;

/// <summary>
/// A shop process started by the demo or a test (<c>dotnet Shop.dll MODE --name value...</c>) and driven one command
/// line at a time; disposing it asks it to exit and kills it by its PID if it does not.
/// </summary>
public sealed class ShopProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _errors = new();
    private readonly SemaphoreSlim _exchange = new(1, 1);

    private ShopProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        ProcessId = process.Id;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                _lines.Writer.TryComplete();
            else
                _lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_errors)
                _errors.AppendLine(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The name the process was started with.</summary>
    public string Name { get; }

    /// <summary>The PID.</summary>
    public int ProcessId { get; }

    /// <summary>How long the process took to warm up (connections, the JIT compiler, EF Core's model) before it was ready.</summary>
    public TimeSpan WarmUp { get; private set; }

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Runs <c>shop init</c> to its end: a fresh database at <paramref name="database"/>.</summary>
    /// <param name="database">The SQLite file.</param>
    /// <param name="cancellationToken">Cancels the wait; the process is killed.</param>
    /// <returns>A task that completes when the database is created.</returns>
    public static async Task CreateDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await using var init = Start("init", ["--db", database]);
        var line = await init.ReadLineAsync(cancellationToken);
        if (!line.StartsWith("created ", StringComparison.Ordinal))
            throw new InvalidOperationException($"shop init failed: {line} {init.Errors()}");
    }

    /// <summary>Starts a <c>service</c> or <c>admin</c> process and waits until it is connected to the cluster.</summary>
    /// <param name="mode"><c>service</c> or <c>admin</c>.</param>
    /// <param name="name">Its name, for the output.</param>
    /// <param name="database">The SQLite file.</param>
    /// <param name="zooKeeper">The ZooKeeper connect string.</param>
    /// <param name="root">The cache's ZooKeeper root.</param>
    /// <param name="memcached">The memcached servers (<c>host:port</c>, comma-separated), or null for the ones registered in ZooKeeper.</param>
    /// <param name="cancellationToken">Cancels the wait; the process is killed.</param>
    /// <returns>The ready process.</returns>
    public static async Task<ShopProcess> StartAsync(string mode, string name, string database, string zooKeeper, string root, string? memcached, CancellationToken cancellationToken)
    {
        var shop = Start(mode, ["--name", name, "--db", database, "--zookeeper", zooKeeper, "--root", root, .. memcached is null ? Array.Empty<string>() : ["--memcached", memcached]]);
        try
        {
            var line = await shop.ReadLineAsync(cancellationToken);
            if (!line.StartsWith($"ready {name} ", StringComparison.Ordinal))
                throw new InvalidOperationException($"shop {mode} {name} did not start: {line} {shop.Errors()}");
            shop.WarmUp = TimeSpan.FromMilliseconds(new Reply(line).Number("warm_ms"));
            return shop;
        }
        catch
        {
            await shop.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends one command and returns its reply; an <c>error</c> reply throws with its text.</summary>
    /// <param name="command">The command line.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The reply's <c>key=value</c> pairs (<c>name=</c> takes the rest of the line), with the first word as <c>reply</c>.</returns>
    public async Task<Reply> SendAsync(string command, CancellationToken cancellationToken = default)
    {
        await _exchange.WaitAsync(cancellationToken);
        try
        {
            await _process.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken);
            await _process.StandardInput.FlushAsync(cancellationToken);
            var line = await ReadLineAsync(cancellationToken);
            return line.StartsWith("error ", StringComparison.Ordinal)
                ? throw new InvalidOperationException($"{Name}: `{command}` failed: {line[6..]}")
                : new Reply(line);
        }
        finally
        {
            _exchange.Release();
        }
    }

    /// <summary>Sends <c>exit</c> and waits up to 5 s; kills the process by its PID if it is still there.</summary>
    /// <returns>A task that completes when the process is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await _process.StandardInput.WriteLineAsync("exit");
                await _process.StandardInput.FlushAsync();
            }
            catch (IOException)
            {
                // It is exiting already.
            }
        }

        await WaitOrKillAsync(_process, TimeSpan.FromSeconds(5));
        _process.Dispose();
        _exchange.Dispose();
    }

    /// <summary>Waits up to <paramref name="grace"/> for <paramref name="process"/> to exit, then kills it by its PID and waits until it is gone.</summary>
    /// <param name="process">A process this program started.</param>
    /// <param name="grace">How long it may take to exit on its own.</param>
    /// <returns>A task that completes when the process is gone.</returns>
    public static async Task WaitOrKillAsync(Process process, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(process);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static ShopProcess Start(string mode, string[] arguments)
    {
        var dll = typeof(ShopProcess).Assembly.Location;
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add(mode);
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
        return new ShopProcess(process, arguments.Length > 1 && arguments[0] == "--name" ? arguments[1] : mode);
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        try
        {
            return await _lines.Reader.ReadAsync(timeout.Token);
        }
        catch (Exception e) when (e is ChannelClosedException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new InvalidOperationException($"{Name} (PID {ProcessId}) gave no reply: {Errors()}", e);
        }
    }

    private string Errors()
    {
        lock (_errors)
            return _errors.ToString();
    }
}

/// <summary>A reply line of a shop process.</summary>
public sealed class Reply
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    internal Reply(string line)
    {
        Line = line;
        var words = line.Split(' ');
        _values["reply"] = words[0];
        for (var i = 1; i < words.Length; i++)
        {
            var (key, value) = (words[i][..Math.Max(0, words[i].IndexOf('=', StringComparison.Ordinal))], words[i][(words[i].IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (key == "name")
            {
                _values[key] = string.Join(' ', [value, .. words[(i + 1)..]]);
                break;
            }

            _values[key] = value;
        }
    }

    /// <summary>The whole line.</summary>
    public string Line { get; }

    /// <summary>True for <c>ok</c>, false for <c>none</c>.</summary>
    public bool Found => _values["reply"] == "ok";

    /// <summary>A value as text.</summary>
    /// <param name="key">Its key.</param>
    public string this[string key] => _values.TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"The reply '{Line}' has no {key}.");

    /// <summary>A value as text, or null when the reply has none.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>The value, or null.</returns>
    public string? Find(string key) => _values.GetValueOrDefault(key);

    /// <summary>A value as a number.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>The number.</returns>
    public double Number(string key) => double.Parse(this[key], CultureInfo.InvariantCulture);

    /// <summary>A value as a boolean.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>The value.</returns>
    public bool Flag(string key) => bool.Parse(this[key]);

    /// <summary>A time in microseconds as a <see cref="TimeSpan"/>.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>The time.</returns>
    public TimeSpan Microseconds(string key) => TimeSpan.FromMicroseconds(Number(key));

    /// <summary>A <see cref="DateTime.UtcNow"/> tick count as a time.</summary>
    /// <param name="key">Its key.</param>
    /// <returns>The time.</returns>
    public DateTime Time(string key) => new(long.Parse(this[key], CultureInfo.InvariantCulture), DateTimeKind.Utc);

    /// <inheritdoc/>
    public override string ToString() => Line;
}
