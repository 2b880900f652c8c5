using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TypedCache.Cluster;
using TypedCache.Coordination;
using TypedCache.Memcached;
using TypedCache.ZooKeeper;

namespace TypedCache.Cli;

/// <summary>The options every command takes, and the connections they lead to.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> ZooKeeper = new("--zookeeper", "-z")
    {
        Description = "The ZooKeeper ensemble holding the membership, host:port[,host:port...].",
        Recursive = true,
    };

    public static readonly Option<string> Root = new("--root")
    {
        Description = "The TypedCache root in ZooKeeper.",
        DefaultValueFactory = _ => "/typedcache",
        Recursive = true,
    };

    public static readonly Option<DigestCredential?> Digest = new("--digest")
    {
        Description = "A ZooKeeper digest credential user:password: nodes the tool creates get its digest ACL (others may only read).",
        CustomParser = ParseDigest,
        Recursive = true,
    };

    public static readonly Option<RingNode[]> Memcached = new("--memcached", "-m")
    {
        Description = "memcached servers host:port[:weight], comma-separated or repeated: a static list instead of ZooKeeper.",
        CustomParser = ParseNodes,
        Recursive = true,
    };

    public static readonly Option<string> Compat = new Option<string>("--compat")
    {
        Description = "The ring to place keys like: libmemcached (weighted ketama, MD5), twemproxy-md5 or twemproxy-fnv1a64.",
        DefaultValueFactory = _ => "libmemcached",
        Recursive = true,
    }.AcceptOnlyFromAmong("libmemcached", "twemproxy-md5", "twemproxy-fnv1a64");

    public static readonly Option<TimeSpan> Timeout = new("--timeout")
    {
        Description = "How long to wait for a server (e.g. 500ms, 5s, 1m).",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(5),
        CustomParser = ParseDuration,
        Recursive = true,
    };

    public static void AddTo(Command root)
    {
        foreach (Option option in (Option[])[ZooKeeper, Root, Digest, Memcached, Compat, Timeout])
            root.Options.Add(option);
    }

    public static RingCompatibility Compatibility(ParseResult result) => result.GetValue(Compat) switch
    {
        "twemproxy-md5" => RingCompatibility.TwemproxyMd5,
        "twemproxy-fnv1a64" => RingCompatibility.TwemproxyFnv1a64,
        _ => RingCompatibility.LibmemcachedWeighted,
    };

    /// <summary>The nodes: the static list when given, else the members in ZooKeeper.</summary>
    public static async Task<IReadOnlyList<RingNode>> LoadNodesAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var nodes = result.GetValue(Memcached);
        if (nodes is { Length: > 0 })
            return nodes;
        await using var client = await ConnectZooKeeperAsync(result, cancellationToken);
        var root = await OpenRootAsync(client, result, cancellationToken);
        await using var watcher = await MembersWatcher.StartAsync(root, cancellationToken);
        return [.. MemcachedCluster.ToRingNodes(watcher.Current)];
    }

    public static KetamaRing BuildRing(IReadOnlyList<RingNode> nodes, ParseResult result)
    {
        try
        {
            return KetamaRing.Create(nodes, Compatibility(result));
        }
        catch (ArgumentException e)
        {
            throw CliError.BadUsage(e.Message);
        }
    }

    /// <summary>A connected ZooKeeper client for <c>--zookeeper</c>.</summary>
    public static async Task<ZooKeeperClient> ConnectZooKeeperAsync(ParseResult result, CancellationToken cancellationToken, bool renewSession = false)
    {
        string connect = result.GetValue(ZooKeeper) ?? throw CliError.BadUsage("no servers given: pass --zookeeper host:port (membership) or --memcached host:port,... (a static list)");
        var timeout = result.GetValue(Timeout);
        ZooKeeperClient client;
        try
        {
            client = new ZooKeeperClient(new ZooKeeperClientOptions
            {
                ConnectString = connect,
                ConnectionWaitTimeout = timeout,
                SessionTimeout = TimeSpan.FromSeconds(10),
                RenewSessionOnExpiry = renewSession,
            });
        }
        catch (ArgumentException e)
        {
            throw CliError.BadUsage($"--zookeeper: {e.Message}");
        }
        try
        {
            await client.WaitForConnectionAsync(cancellationToken);
            return client;
        }
        catch (KeeperException e)
        {
            await client.DisposeAsync();
            throw new CliError($"ZooKeeper {connect} is unreachable: no server answered within {Seconds(timeout)} ({e.Code})");
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>The TypedCache root named by <c>--root</c> on <paramref name="client"/> (created if missing).</summary>
    public static async Task<CoordinationRoot> OpenRootAsync(ZooKeeperClient client, ParseResult result, CancellationToken cancellationToken)
    {
        try
        {
            return await CoordinationRoot.OpenAsync(client, result.GetValue(Root)!, result.GetValue(Digest), cancellationToken);
        }
        catch (ArgumentException e)
        {
            throw CliError.BadUsage($"--root: {e.Message}");
        }
    }

    /// <summary>A connected memcached client, or a one-line error naming the server.</summary>
    public static async Task<MemcachedClient> ConnectMemcachedAsync(RingNode node, ParseResult result, CancellationToken cancellationToken)
    {
        var timeout = result.GetValue(Timeout);
        try
        {
            return await MemcachedClient.ConnectAsync(node.Host, node.Port, new MemcachedClientOptions { ConnectTimeout = timeout, OperationTimeout = timeout }, cancellationToken);
        }
        catch (MemcachedException e)
        {
            throw new CliError($"memcached {node.Endpoint} is unreachable: {(e.InnerException ?? e).Message}");
        }
    }

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>A host:port[:weight] list, comma-separated or repeated; errors name the option being parsed.</summary>
    public static RingNode[] ParseNodes(ArgumentResult result)
    {
        string option = (result.Parent as OptionResult)?.Option.Name ?? "--memcached";
        var nodes = new List<RingNode>();
        foreach (var token in result.Tokens)
        {
            foreach (var part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try
                {
                    nodes.Add(RingNode.Parse(part));
                }
                catch (FormatException e)
                {
                    result.AddError($"{option}: {e.Message}");
                    return [];
                }
            }
        }
        if (nodes.Count == 0)
            result.AddError($"{option}: no server given.");
        return [.. nodes];
    }

    private static DigestCredential? ParseDigest(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
            return new DigestCredential(text[..colon], text[(colon + 1)..]);
        result.AddError("--digest: expected user:password.");
        return null;
    }

    /// <summary>Parses <c>250ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c> or a bare number of seconds.</summary>
    internal static TimeSpan ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        (string number, double unit) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * unit > int.MaxValue / 1000.0)
        {
            string name = result.Parent is OptionResult option ? option.Option.Name : "duration";
            result.AddError($"{name}: '{text}' is not a duration such as 500ms, 5s, 2m or 1h.");
            return TimeSpan.Zero;
        }
        return TimeSpan.FromSeconds(value * unit);
    }
}
