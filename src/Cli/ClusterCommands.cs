using System.CommandLine;
using System.Globalization;
using System.Text;
using TypedCache.Cluster;

namespace TypedCache.Cli;

/// <summary><c>nodes</c>, <c>ring</c>, <c>locate</c> and <c>stats</c>: read-only views of the cluster.</summary>
internal static class ClusterCommands
{
    private static readonly string[] SummaryStats = ["version", "uptime", "curr_items", "bytes", "get_hits", "get_misses", "curr_connections"];

    public static Command Nodes() => new Command("nodes", "List the memcached nodes: the members under {root}/nodes in ZooKeeper, or the --memcached list.")
        .WithAction(async (result, cancellationToken) =>
        {
            var nodes = await CommonOptions.LoadNodesAsync(result, cancellationToken);
            var table = new TextTable("NODE", "WEIGHT");
            foreach (var node in nodes)
                table.Add(node.Endpoint, Invariant(node.Weight));
            table.WriteTo(Console.Out);
            if (nodes.Count == 0)
                Console.Error.WriteLine($"typedcache: no members under {result.GetValue(CommonOptions.Root)}/nodes");
            return 0;
        });

    public static Command Ring() => new Command("ring", "Show the ketama ring: points per node and each node's share of the keyspace.")
        .WithAction(async (result, cancellationToken) =>
        {
            var ring = CommonOptions.BuildRing(await CommonOptions.LoadNodesAsync(result, cancellationToken), result);
            var table = new TextTable("NODE", "WEIGHT", "POINTS", "SHARE");
            for (int i = 0; i < ring.Nodes.Length; i++)
                table.Add(ring.Nodes[i].Endpoint, Invariant(ring.Nodes[i].Weight), Invariant(ring.GetPointCount(i)), (ring.GetKeyspaceShare(i) * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%");
            table.WriteTo(Console.Out);
            Console.Out.WriteLine($"{Invariant(ring.PointCount)} points, {ring.Compatibility}");
            return 0;
        });

    public static Command Locate()
    {
        var keys = new Argument<string[]>("key") { Description = "The memcached keys to place.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("locate", "Name the node each key lives on.") { keys };
        return command.WithAction(async (result, cancellationToken) =>
        {
            var ring = CommonOptions.BuildRing(await CommonOptions.LoadNodesAsync(result, cancellationToken), result);
            if (ring.LiveCount == 0)
                throw new CliError("no memcached nodes to place keys on");
            var table = new TextTable("KEY", "NODE", "HASH");
            foreach (var key in result.GetValue(keys)!)
            {
                var bytes = Encoding.UTF8.GetBytes(key);
                table.Add(key, ring.Nodes[ring.GetNodeIndex(bytes)].Endpoint, ring.HashKey(bytes).ToString("x8", CultureInfo.InvariantCulture));
            }
            table.WriteTo(Console.Out);
            return 0;
        });
    }

    public static Command Stats()
    {
        var all = new Option<bool>("--all") { Description = "Print every statistic, one 'node name value' line each." };
        var command = new Command("stats", "Show each node's memcached statistics.") { all };
        return command.WithAction(async (result, cancellationToken) =>
        {
            var nodes = await CommonOptions.LoadNodesAsync(result, cancellationToken);
            var read = await Task.WhenAll(nodes.Select(async Task<(RingNode Node, IReadOnlyDictionary<string, string>? Stats, string? Error)> (node) =>
            {
                try
                {
                    await using var client = await CommonOptions.ConnectMemcachedAsync(node, result, cancellationToken);
                    return (node, await client.GetStatsAsync(cancellationToken: cancellationToken), null);
                }
                catch (Exception e) when (e is CliError or TypedCache.Memcached.MemcachedException)
                {
                    return (node, null, e.Message);
                }
            }));

            var table = result.GetValue(all) ? new TextTable("NODE", "NAME", "VALUE") : new TextTable(["NODE", .. SummaryStats.Select(s => s.ToUpperInvariant())]);
            foreach (var (node, stats, _) in read)
            {
                if (stats is null)
                {
                    if (!result.GetValue(all))
                        table.Add([node.Endpoint, .. SummaryStats.Select(_ => "-")]);
                }
                else if (result.GetValue(all))
                    foreach (var (name, value) in stats.OrderBy(s => s.Key, StringComparer.Ordinal))
                        table.Add(node.Endpoint, name, value);
                else
                    table.Add([node.Endpoint, .. SummaryStats.Select(s => stats.TryGetValue(s, out var v) ? v : "-")]);
            }
            table.WriteTo(Console.Out);
            foreach (var (_, _, error) in read)
            {
                if (error is not null)
                    Console.Error.WriteLine($"typedcache: {error}");
            }
            return read.Any(r => r.Error is not null) ? CliError.Failure : 0;
        });
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
