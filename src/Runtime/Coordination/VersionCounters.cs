using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// The version counters under <c>{root}/versions/types/{Type}</c> and <c>{root}/versions/tags/{tag}</c>: persistent
/// nodes holding a decimal number (ASCII, no sign, no padding), bumped with compare-and-set on the node's version.
/// A missing node reads as 0; the first bump creates it with 1.
/// </summary>
internal sealed class VersionCounters(CoordinationRoot root)
{
    /// <summary>The current value of a counter (0 when it was never bumped).</summary>
    /// <exception cref="InvalidDataException">The node holds something other than a decimal number.</exception>
    public async Task<long> ReadAsync(VersionKind kind, string name, CancellationToken cancellationToken = default)
    {
        string path = root.VersionPath(kind, name);
        try
        {
            NodeData node = await root.Client.GetDataAsync(path, cancellationToken).ConfigureAwait(false);
            return Parse(node.Data, path);
        }
        catch (NoNodeException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Adds one to a counter atomically: concurrent bumps from any number of clients each add one. A bump whose reply
    /// was lost (ConnectionLoss) is retried, so it may add two: invalidation only needs the value to move forward.
    /// </summary>
    /// <returns>The value this bump wrote.</returns>
    /// <exception cref="InvalidDataException">The node holds something other than a decimal number.</exception>
    public async Task<long> BumpAsync(VersionKind kind, string name, CancellationToken cancellationToken = default)
    {
        string path = root.VersionPath(kind, name);
        ZooKeeperClient client = root.Client;
        while (true)
        {
            NodeData current;
            try
            {
                current = await client.GetDataAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (NoNodeException)
            {
                await root.EnsurePathAsync(ZooKeeperPath.Parent(path)!, CreateMode.Persistent, cancellationToken).ConfigureAwait(false);
                try
                {
                    await client.CreateAsync(path, Format(1), CreateMode.Persistent, root.Acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                    return 1;
                }
                catch (NodeExistsException)
                {
                    continue;
                }
            }

            long next = Parse(current.Data, path) + 1;
            try
            {
                await client.SetDataAsync(path, Format(next), current.Stat.Version, cancellationToken).ConfigureAwait(false);
                return next;
            }
            catch (Exception ex) when (ex is BadVersionException or ConnectionLossException or NoNodeException)
            {
                // Another bump won the race (or the reply was lost): read again.
            }
        }
    }

    /// <summary>The payload of a counter holding <paramref name="value"/>.</summary>
    public static byte[] Format(long value) => Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    /// <summary>Parses a counter's payload; an empty payload is 0.</summary>
    /// <exception cref="InvalidDataException">The payload is not a non-negative decimal number.</exception>
    public static long Parse(ReadOnlySpan<byte> data, string path) =>
        TryParse(data, out long value)
            ? value
            : throw new InvalidDataException($"The version counter '{path}' holds {data.Length} bytes that are not a decimal number.");

    /// <summary>Parses a counter's payload; false unless it is empty (0) or a non-negative decimal number.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out long value)
    {
        if (data.IsEmpty)
        {
            value = 0;
            return true;
        }

        return long.TryParse(data, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>A counter's new value, as seen by a <see cref="VersionWatcher"/>.</summary>
/// <param name="Kind">Type or tag.</param>
/// <param name="Name">The type or tag, as its path segment (escaped as <see cref="CoordinationRoot.Segment"/> does).</param>
/// <param name="Version">The new value.</param>
internal sealed record VersionChange(VersionKind Kind, string Name, long Version);

/// <summary>
/// Keeps every type and tag version of a root in memory, updated through one persistent recursive watch on
/// <c>{root}/versions</c>. Values only move forward; while ZooKeeper is unreachable the last known values stay.
/// </summary>
internal sealed class VersionWatcher : IAsyncDisposable
{
    private readonly CoordinationRoot _root;
    private readonly ConcurrentDictionary<(VersionKind Kind, string Name), long> _versions = new();
    private readonly Channel<VersionChange> _changes = Channel.CreateUnbounded<VersionChange>();
    private TreeWatch? _watch;

    private VersionWatcher(CoordinationRoot root) => _root = root;

    /// <summary>Every change, in order (a value seen for the first time included).</summary>
    public ChannelReader<VersionChange> Changes => _changes.Reader;

    /// <summary>Reads every counter and starts watching them.</summary>
    public static async Task<VersionWatcher> StartAsync(CoordinationRoot root, CancellationToken cancellationToken = default)
    {
        var watcher = new VersionWatcher(root);
        watcher._watch = await TreeWatch.StartAsync(root.Client, root.Versions, watcher.ResyncAsync, watcher.OnEventAsync, cancellationToken).ConfigureAwait(false);
        return watcher;
    }

    /// <summary>The last known value of a counter (0 when never bumped).</summary>
    public long Get(VersionKind kind, string name) => _versions.GetValueOrDefault((kind, CoordinationRoot.Segment(name)));

    /// <summary>Stops watching.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync().ConfigureAwait(false);
        }

        _changes.Writer.TryComplete();
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        foreach ((VersionKind kind, string parent) in new[] { (VersionKind.Type, _root.Types), (VersionKind.Tag, _root.Tags) })
        {
            IReadOnlyList<string> names;
            try
            {
                names = (await _root.Client.GetChildrenAsync(parent, cancellationToken).ConfigureAwait(false)).Children;
            }
            catch (NoNodeException)
            {
                continue;
            }

            await Task.WhenAll(names.Select(name => ReadAsync(kind, parent + "/" + name, name, cancellationToken))).ConfigureAwait(false);
        }
    }

    private Task OnEventAsync(WatchedEvent watchedEvent, CancellationToken cancellationToken)
    {
        if (watchedEvent.Type is not (WatchEventType.NodeCreated or WatchEventType.NodeDataChanged))
        {
            return Task.CompletedTask;
        }

        string? parent = ZooKeeperPath.Parent(watchedEvent.Path);
        VersionKind? kind = parent == _root.Types ? VersionKind.Type : parent == _root.Tags ? VersionKind.Tag : null;
        return kind is { } known
            ? ReadAsync(known, watchedEvent.Path, watchedEvent.Path[(parent!.Length + 1)..], cancellationToken)
            : Task.CompletedTask;
    }

    private async Task ReadAsync(VersionKind kind, string path, string name, CancellationToken cancellationToken)
    {
        NodeData node;
        try
        {
            node = await _root.Client.GetDataAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
            return;
        }

        if (!VersionCounters.TryParse(node.Data, out long version))
        {
            return;
        }

        while (true)
        {
            if (_versions.TryGetValue((kind, name), out long known))
            {
                if (known >= version)
                {
                    return;
                }

                if (_versions.TryUpdate((kind, name), version, known))
                {
                    break;
                }
            }
            else if (_versions.TryAdd((kind, name), version))
            {
                break;
            }
        }

        _changes.Writer.TryWrite(new VersionChange(kind, name, version));
    }
}
