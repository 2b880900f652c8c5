using System.Globalization;
using System.Text;

namespace TypedCache.Testing;

/// <summary>
/// One ZooKeeper server of a <see cref="ZooKeeperEnsemble"/>: a <c>java</c> process running
/// <c>QuorumPeerMain</c> with its own directory (<c>zoo.cfg</c>, <c>log4j.properties</c>, <c>zookeeper.log</c>,
/// <c>data/myid</c>) and ports, all kept across a restart.
/// </summary>
internal sealed class ZooKeeperMember : IDisposable
{
    private const string Java = "/usr/bin/java";
    private const string MainClass = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
    private const int LogTailLines = 40;

    // Debian's zkEnv.sh puts the conf dir and zookeeper.jar (whose manifest names every dependency) on the
    // classpath; slf4j's log4j binding is added so the server logs to its file instead of nowhere.
    private static readonly string[] ClassPathJars =
        ["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"];

    // Two cores are shared by every test and build on the machine: a small heap, one GC thread, C1 only.
    private static readonly string[] JvmOptions =
    [
        "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=1", "-XX:-UsePerfData",
        "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.jmx.log4j.disable=true",
    ];

    private ChildProcess? _process;

    public ZooKeeperMember(int index, string directory)
    {
        Index = index;
        Directory = directory;
        ClientPort = FreePorts.Next();
        QuorumPort = FreePorts.Next();
        ElectionPort = FreePorts.Next();
    }

    public int Index { get; }

    /// <summary>The <c>myid</c> of this member: its index plus one.</summary>
    public int ServerId => Index + 1;

    public string Directory { get; }

    public string DataDirectory => Path.Combine(Directory, "data");

    public int ClientPort { get; }

    public int QuorumPort { get; }

    public int ElectionPort { get; }

    public string Endpoint => "127.0.0.1:" + ClientPort.ToString(CultureInfo.InvariantCulture);

    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"ZooKeeper member {Index} was never started.");

    public bool IsRunning => _process is { HasExited: false };

    public bool HasExited => _process is { HasExited: true };

    private string LogPath => Path.Combine(Directory, "zookeeper.log");

    /// <summary>The <c>server.N=</c> line every member's config has for this member.</summary>
    public string ServerLine =>
        string.Create(CultureInfo.InvariantCulture, $"server.{ServerId}=127.0.0.1:{QuorumPort}:{ElectionPort}");

    /// <summary>Writes <c>zoo.cfg</c>, <c>log4j.properties</c> and <c>data/myid</c>.</summary>
    public void WriteFiles(string sharedConfig)
    {
        System.IO.Directory.CreateDirectory(DataDirectory);
        File.WriteAllText(Path.Combine(DataDirectory, "myid"), ServerId.ToString(CultureInfo.InvariantCulture) + "\n");
        File.WriteAllText(
            Path.Combine(Directory, "zoo.cfg"),
            $"""
            dataDir={DataDirectory}
            clientPort={ClientPort.ToString(CultureInfo.InvariantCulture)}
            clientPortAddress=127.0.0.1
            {sharedConfig}
            """);
        File.WriteAllText(
            Path.Combine(Directory, "log4j.properties"),
            $"""
            log4j.rootLogger=INFO, FILE
            log4j.appender.FILE=org.apache.log4j.FileAppender
            log4j.appender.FILE.File={LogPath}
            log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
            log4j.appender.FILE.layout.ConversionPattern=%d{"{"}ISO8601{"}"} %-5p [%t] %c{"{"}1{"}"} - %m%n

            """);
    }

    public void Start()
    {
        foreach (var jar in ClassPathJars)
        {
            if (!File.Exists(jar))
                throw new FileNotFoundException($"{jar} is missing; scripts/setup installs Debian's zookeeper package.", jar);
        }

        _process?.Dispose();
        _process = ChildProcess.Start(
            Java,
            [
                .. JvmOptions,
                "-Dlog4j.configuration=file:" + Path.Combine(Directory, "log4j.properties"),
                "-cp", string.Join(':', [Directory, .. ClassPathJars]),
                MainClass,
                Path.Combine(Directory, "zoo.cfg"),
            ],
            Directory);
    }

    public async Task KillAsync()
    {
        if (_process is not null)
            await _process.KillAsync().ConfigureAwait(false);
    }

    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not null)
            await _process.StopAsync(grace).ConfigureAwait(false);
    }

    /// <summary>
    /// The <c>Mode</c> this member reports to <c>srvr</c> (<c>standalone</c>, <c>leader</c>, <c>follower</c>,
    /// <c>observer</c>); null while it is stopped, unreachable or not serving (during an election).
    /// </summary>
    public async Task<string?> QueryModeAsync(CancellationToken ct)
    {
        if (!IsRunning)
            return null;
        var reply = await LoopbackClient.TryExchangeAsync(ClientPort, "srvr", _ => false, ct).ConfigureAwait(false);
        return reply is null ? null : ParseMode(reply);
    }

    /// <summary>
    /// True when the server on <see cref="ClientPort"/> is this member: its <c>conf</c> names this member's
    /// data dir. Another process that bound the port first must not pass for it.
    /// </summary>
    public async Task<bool> ServesFromHereAsync(CancellationToken ct)
    {
        var conf = await LoopbackClient.TryExchangeAsync(ClientPort, "conf", _ => false, ct).ConfigureAwait(false);
        return conf?.Contains("dataDir=" + DataDirectory, StringComparison.Ordinal) == true;
    }

    /// <summary>True when the member's log or output says one of its ports was taken.</summary>
    public bool PortWasTaken() =>
        ReadLogTail().Contains("Address already in use", StringComparison.Ordinal)
        || _process?.Output.Contains("Address already in use", StringComparison.Ordinal) == true;

    /// <summary>The member's ports, process state, output and the tail of its log, for an exception message.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"member {Index} (client {Endpoint}, quorum {QuorumPort}, election {ElectionPort}): ");
        text.AppendLine(_process?.Describe() ?? "never started");
        text.AppendLine(CultureInfo.InvariantCulture, $"last lines of {LogPath}:");
        text.Append(ReadLogTail());
        return text.ToString();
    }

    public void Dispose() => _process?.Dispose();

    internal static string? ParseMode(string srvrReply)
    {
        foreach (var line in srvrReply.Split('\n'))
        {
            if (line.StartsWith("Mode: ", StringComparison.Ordinal))
                return line["Mode: ".Length..].Trim();
        }

        return null;
    }

    private string ReadLogTail()
    {
        if (!File.Exists(LogPath))
            return "(no log)";
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new Queue<string>();
        while (reader.ReadLine() is { } line)
        {
            lines.Enqueue(line);
            if (lines.Count > LogTailLines)
                lines.Dequeue();
        }

        return string.Join(Environment.NewLine, lines);
    }
}
