using System.CommandLine;
using System.Globalization;
using System.Net;
using TypedCache.Cluster;
using TypedCache.Proxy;

namespace TypedCache.Cli;

/// <summary><c>proxy</c>: a memcached-protocol proxy over the cluster's ring, for clients in any language.</summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var defaults = new ProxyOptions();
        var listen = new Option<string>("--listen") { Description = "Where to accept memcached clients, host:port.", Required = true };
        var maxConnections = new Option<int>("--max-connections")
        {
            Description = "Most client connections at once; the next gets 'ERROR Too many open connections' and is closed. The open-file limit is raised to fit.",
            DefaultValueFactory = _ => defaults.MaxConnections,
        };
        var maxValue = new Option<int>("--max-value-bytes")
        {
            Description = "Largest value a storage command may carry; a larger one is swallowed and answered 'SERVER_ERROR object too large for cache'.",
            DefaultValueFactory = _ => defaults.MaxValueBytes,
        };
        var maxLine = new Option<int>("--max-line-bytes")
        {
            Description = "Longest command line (a multi-key get is one line); a longer one gets 'CLIENT_ERROR line too long' and the connection is closed.",
            DefaultValueFactory = _ => defaults.MaxLineBytes,
        };
        var idle = new Option<TimeSpan>("--idle-timeout")
        {
            Description = "Close a client connection that sends nothing for this long (0: never).",
            DefaultValueFactory = _ => defaults.IdleTimeout,
            CustomParser = CommonOptions.ParseDuration,
        };
        var backendTimeout = new Option<TimeSpan>("--backend-timeout")
        {
            Description = "How long a memcached node may take to connect or answer before its connection is closed and its keys follow --node-down.",
            DefaultValueFactory = _ => defaults.BackendTimeout,
            CustomParser = CommonOptions.ParseDuration,
        };
        var failureThreshold = new Option<int>("--failure-threshold")
        {
            Description = "Timed-out requests in a row that take a node down (one alone only misses); any other fault takes it down at once.",
            DefaultValueFactory = _ => defaults.FailureThreshold,
        };
        var nodeDown = new Option<string>("--node-down")
        {
            Description = "What a down node's keys do: miss (reads miss, writes are not stored), eject (they move to the other nodes until it returns) "
                + "or gutter (they go to the --gutter servers with TTLs capped to --gutter-ttl). Default gutter when --gutter is given, else miss.",
        }.AcceptOnlyFromAmong("miss", "eject", "gutter");
        var gutter = new Option<RingNode[]>("--gutter")
        {
            Description = "Gutter servers host:port, comma-separated or repeated: while a node is down its keys go to them; deletes go to them too.",
            CustomParser = CommonOptions.ParseNodes,
        };
        var gutterTtl = new Option<int>("--gutter-ttl")
        {
            Description = "Longest TTL in seconds of anything written to a gutter server; longer and never-expiring TTLs are capped to it.",
            DefaultValueFactory = _ => defaults.GutterTtlSeconds,
        };

        var ioThreads = new Option<int>("--io-threads")
        {
            Description = "Threads that wait for socket events and run the proxy's work on them (default: a quarter of the cores, at least 1). "
                + "One thread serves every connection, as twemproxy does; the others' requests then reach a memcached node in one write.",
            DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount / 4),
        };

        var command = new Command("proxy",
            "Serve the memcached text and meta protocols on --listen, routing each key to its node on the ring (ZooKeeper membership, or --memcached); runs until Ctrl+C.")
        { listen, maxConnections, maxValue, maxLine, idle, backendTimeout, failureThreshold, nodeDown, gutter, gutterTtl, ioThreads };
        return command.WithAction(async (result, cancellationToken) =>
        {
            // Socket completions run on the epoll threads instead of hopping to the thread pool: the proxy's read loops
            // only parse, copy and hand off, and the hop was a fifth of its time per request. Fewer epoll threads than
            // cores leave the rest to memcached and the clients, and let one thread's requests to a node share a write.
            // Both are read when the first socket is made, so they must be set before ZooKeeper or the listener opens one.
            if (result.GetValue(ioThreads) < 1)
                throw CliError.BadUsage($"--io-threads: {result.GetValue(ioThreads)} is not a thread count (1 or more)");
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", result.GetValue(ioThreads).ToString(CultureInfo.InvariantCulture));
            if (!IPEndPoint.TryParse(result.GetValue(listen)!, out var endpoint) || endpoint.Port == 0)
                throw CliError.BadUsage($"--listen: '{result.GetValue(listen)}' is not an address:port such as 127.0.0.1:11311");
            if (result.GetValue(failureThreshold) < 1)
                throw CliError.BadUsage($"--failure-threshold: {result.GetValue(failureThreshold)} is not a count of timeouts (1 or more)");
            var gutterNodes = result.GetValue(gutter) ?? [];
            var options = new ProxyOptions
            {
                MaxConnections = result.GetValue(maxConnections),
                MaxValueBytes = result.GetValue(maxValue),
                MaxLineBytes = result.GetValue(maxLine),
                IdleTimeout = result.GetValue(idle),
                BackendTimeout = result.GetValue(backendTimeout),
                FailureThreshold = result.GetValue(failureThreshold),
                NodeDownPolicy = NodeDownPolicyOf(result.GetValue(nodeDown), gutterNodes),
                GutterNodes = gutterNodes,
                GutterTtlSeconds = result.GetValue(gutterTtl),
                Compatibility = CommonOptions.Compatibility(result),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw CliError.BadUsage(e.Message);
            }

            var nodes = result.GetValue(CommonOptions.Memcached);
            await using var zooKeeper = nodes is { Length: > 0 } ? null : await CommonOptions.ConnectZooKeeperAsync(result, cancellationToken, renewSession: true);
            MemcachedProxy proxy;
            try
            {
                proxy = zooKeeper is null
                    ? MemcachedProxy.Start(endpoint, nodes!, options)
                    : await MemcachedProxy.StartAsync(endpoint, await CommonOptions.OpenRootAsync(zooKeeper, result, cancellationToken), options, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or System.Net.Sockets.SocketException)
            {
                throw new CliError($"proxy on {endpoint}: {e.Message}");
            }
            await using (proxy)
            {
                proxy.Topology.RingChanged += (_, ring) => Console.Out.WriteLine($"ring: {ring.LiveCount} of {ring.Nodes.Length} nodes live");
                // The listening line comes last: scripts and tests take it as the sign that the proxy is ready and has said all.
                if (proxy.Topology.GutterPool is { } pool)
                    Console.Out.WriteLine($"gutter: {pool.Nodes.Length} servers, TTLs capped to {options.GutterTtlSeconds} s");
                Console.Out.WriteLine($"proxy listening on {proxy.Endpoint} over {proxy.Topology.Current.Nodes.Length} nodes");
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            Console.Out.WriteLine("proxy stopped");
            return 0;
        });
    }

    /// <summary>--node-down, defaulting to gutter when gutter servers are given; gutter servers under another policy are a usage error.</summary>
    private static NodeDownPolicy NodeDownPolicyOf(string? policy, RingNode[] gutterNodes)
    {
        if (gutterNodes.Length > 0 && policy is not (null or "gutter"))
            throw CliError.BadUsage($"--gutter: gutter servers are used only by --node-down gutter, not {policy}");
        if (policy == "gutter" && gutterNodes.Length == 0)
            throw CliError.BadUsage("--node-down gutter needs gutter servers in --gutter");
        return policy switch
        {
            "eject" => NodeDownPolicy.Eject,
            "miss" => NodeDownPolicy.Miss,
            "gutter" => NodeDownPolicy.Gutter,
            _ => gutterNodes.Length > 0 ? NodeDownPolicy.Gutter : NodeDownPolicy.Miss,
        };
    }
}
