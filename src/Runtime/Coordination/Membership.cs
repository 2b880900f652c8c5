using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>A live memcached server as registered under <c>{root}/nodes</c>.</summary>
/// <param name="Host">The host name or address (IPv6 without brackets).</param>
/// <param name="Port">The TCP port.</param>
/// <param name="Weight">The ketama weight (at least 1).</param>
internal sealed record Member(string Host, int Port, int Weight)
{
    /// <summary><c>host:port</c> (<c>[v6]:port</c>), the node's name.</summary>
    public string Endpoint => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The node's data: JSON <c>{"weight":N}</c>.</summary>
    public static byte[] EncodeData(int weight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        return Encoding.UTF8.GetBytes($$"""{"weight":{{weight.ToString(CultureInfo.InvariantCulture)}}}""");
    }

    /// <summary>
    /// Parses a node: its name must be <c>host:port</c> and its data a JSON object whose <c>weight</c> is a positive
    /// integer (unknown properties are ignored; empty data means weight 1). False for anything else, never an exception.
    /// </summary>
    public static bool TryParse(string name, ReadOnlySpan<byte> data, out Member? member)
    {
        member = null;
        int colon = name.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(name.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            return false;
        }

        string host = name[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
            if (!IPAddress.TryParse(host, out _))
            {
                return false;
            }
        }

        if (host.Length == 0 || !TryParseWeight(data, out int weight))
        {
            return false;
        }

        member = new Member(host, port, weight);
        return true;
    }

    private static bool TryParseWeight(ReadOnlySpan<byte> data, out int weight)
    {
        weight = 1;
        if (data.IsEmpty)
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool isWeight = reader.ValueTextEquals("weight"u8);
                if (!reader.Read())
                {
                    return false;
                }

                if (isWeight)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out weight) || weight < 1)
                    {
                        return false;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>
/// Keeps <c>{root}/nodes/{host}:{port}</c> (ephemeral, <c>{"weight":N}</c>) registered for as long as it is not
/// disposed: created at once, checked after every reconnect and created again in every new session.
/// </summary>
/// <remarks>
/// When the node exists already, its <c>ephemeralOwner</c> decides: our own session's node (a create whose reply was
/// lost) is kept; another session's node (another registrar, or our own expired session not yet reaped) is waited
/// out with a watch, and the registration is made once it is deleted.
/// </remarks>
internal sealed class MemberRegistration : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly CoordinationRoot _root;
    private readonly byte[] _data;
    private readonly BackgroundLoop _loop = new();
    private readonly Channel<bool> _checks = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _registeredSession;

    private MemberRegistration(CoordinationRoot root, Member member)
    {
        _root = root;
        Member = member;
        Path = root.Nodes + "/" + CoordinationRoot.Segment(member.Endpoint);
        _data = Member.EncodeData(member.Weight);
    }

    /// <summary>What is registered.</summary>
    public Member Member { get; }

    /// <summary>The node's path.</summary>
    public string Path { get; }

    /// <summary>True while the node exists and belongs to the client's current session.</summary>
    public bool IsRegistered => Interlocked.Read(ref _registeredSession) is var session && session != 0 && session == _root.Client.SessionId;

    /// <summary>Registers <paramref name="member"/> and keeps it registered in the background.</summary>
    /// <exception cref="NodeExistsException">Another live session kept the endpoint's node for twice the session timeout.</exception>
    /// <exception cref="KeeperException">The first registration failed.</exception>
    public static Task<MemberRegistration> StartAsync(CoordinationRoot root, Member member, CancellationToken cancellationToken = default) =>
        StartAsync(root, member, null, cancellationToken);

    /// <summary>Registers <paramref name="member"/> and keeps it registered in the background.</summary>
    /// <param name="root">The root.</param>
    /// <param name="member">What to register.</param>
    /// <param name="ownerTimeout">
    /// How long the first registration waits for another live session's node of the same endpoint to go; null for
    /// twice the session timeout, time enough for our own expired session's node to be reaped.
    /// </param>
    /// <param name="cancellationToken">Cancels the first registration.</param>
    /// <returns>The running registration.</returns>
    /// <exception cref="NodeExistsException">Another live session kept the endpoint's node for <paramref name="ownerTimeout"/>.</exception>
    /// <exception cref="KeeperException">The first registration failed.</exception>
    public static async Task<MemberRegistration> StartAsync(
        CoordinationRoot root, Member member, TimeSpan? ownerTimeout, CancellationToken cancellationToken)
    {
        var registration = new MemberRegistration(root, member);
        await registration.EnsureAsync(ownerTimeout ?? 2 * root.Client.SessionTimeout, cancellationToken).ConfigureAwait(false);
        root.Client.StateChanged += registration.OnStateChanged;
        registration._loop.Start(registration.RunAsync);
        return registration;
    }

    /// <summary>Stops and deletes the node (if it is ours).</summary>
    /// <returns>A task that completes when the node is deleted.</returns>
    public async ValueTask DisposeAsync()
    {
        _root.Client.StateChanged -= OnStateChanged;
        if (!await _loop.StopAsync().ConfigureAwait(false))
        {
            return;
        }

        try
        {
            Stat? stat = await _root.Client.ExistsAsync(Path).ConfigureAwait(false);
            if (stat is { } owned && owned.EphemeralOwner == _root.Client.SessionId)
            {
                await _root.Client.DeleteAsync(Path, owned.Version).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is KeeperException or ObjectDisposedException)
        {
            // Gone, or it goes with the session.
        }
    }

    private void OnStateChanged(object? sender, ConnectionState state)
    {
        if (state is ConnectionState.Connected or ConnectionState.Reconnected)
        {
            _checks.Writer.TryWrite(true);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (await _checks.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
            {
                _checks.Reader.TryRead(out _);
                try
                {
                    await EnsureAsync(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
                }
                catch (KeeperException)
                {
                    if (_root.Client.State is ConnectionState.Closed or ConnectionState.AuthFailed)
                    {
                        return;
                    }

                    await Task.Delay(RetryDelay, stop).ConfigureAwait(false);
                    _checks.Writer.TryWrite(true);
                }
                catch (Exception ex) when (ex is not (OperationCanceledException or ObjectDisposedException))
                {
                    await BackgroundLoop.BackOffAfterAsync(_root.Client.Logger, nameof(MemberRegistration), ex, RetryDelay, stop).ConfigureAwait(false);
                    _checks.Writer.TryWrite(true);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Creates the node, or finds it ours; waits at most <paramref name="ownerTimeout"/> for another session's node to go.</summary>
    private async Task EnsureAsync(TimeSpan ownerTimeout, CancellationToken cancellationToken)
    {
        ZooKeeperClient client = _root.Client;
        while (true)
        {
            long session = client.SessionId;
            try
            {
                await client.CreateAsync(Path, _data, CreateMode.Ephemeral, _root.Acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _registeredSession, session);
                return;
            }
            catch (NoNodeException)
            {
                await _root.EnsurePathAsync(_root.Nodes, CreateMode.Persistent, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (NodeExistsException)
            {
            }

            WatchedResult<Stat?> existing = await client.ExistsAndWatchAsync(Path, cancellationToken).ConfigureAwait(false);
            if (existing.Value is { } stat && stat.EphemeralOwner == client.SessionId)
            {
                Interlocked.Exchange(ref _registeredSession, client.SessionId);
                return;
            }

            if (existing.Value is { } other)
            {
                try
                {
                    await existing.Watch.WaitAsync(ownerTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw new NodeExistsException(Path, $"The member {Member.Endpoint} is registered by another live ZooKeeper session 0x{other.EphemeralOwner:x} (this client's session is 0x{client.SessionId:x}); it was not deleted within {ownerTimeout.TotalSeconds:0.#} s.");
                }
            }
        }
    }
}

/// <summary>
/// The set of live members under <c>{root}/nodes</c>, kept current through a persistent recursive watch and re-read
/// after every reconnect. While ZooKeeper is unreachable the last set stays. Nodes whose name or data do not parse
/// are left out.
/// </summary>
internal sealed class MembersWatcher : IAsyncDisposable
{
    private readonly CoordinationRoot _root;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Channel<IReadOnlyList<Member>> _changes = Channel.CreateBounded<IReadOnlyList<Member>>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest });

    private IReadOnlyList<Member> _current = [];
    private TreeWatch? _watch;

    private MembersWatcher(CoordinationRoot root) => _root = root;

    /// <summary>The last known members, sorted by endpoint.</summary>
    public IReadOnlyList<Member> Current => Volatile.Read(ref _current);

    /// <summary>
    /// The member set after each change (the newest only, when the reader is slower than the changes). The first set
    /// is written at start.
    /// </summary>
    public ChannelReader<IReadOnlyList<Member>> Changes => _changes.Reader;

    /// <summary>Reads the members and starts watching them.</summary>
    /// <exception cref="KeeperException">ZooKeeper could not be read at start.</exception>
    public static async Task<MembersWatcher> StartAsync(CoordinationRoot root, CancellationToken cancellationToken = default)
    {
        var watcher = new MembersWatcher(root);
        watcher._watch = await TreeWatch.StartAsync(root.Client, root.Nodes, watcher.ResyncAsync, watcher.OnEventAsync, cancellationToken).ConfigureAwait(false);
        return watcher;
    }

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
        IReadOnlyList<string> names;
        try
        {
            names = (await _root.Client.GetChildrenAsync(_root.Nodes, cancellationToken).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            names = [];
        }

        Member?[] read = await Task.WhenAll(names.Select(name => ReadAsync(name, cancellationToken))).ConfigureAwait(false);
        lock (_gate)
        {
            _members.Clear();
            for (int i = 0; i < names.Count; i++)
            {
                if (read[i] is { } member)
                {
                    _members[names[i]] = member;
                }
            }
        }

        Publish(force: true);
    }

    private async Task OnEventAsync(WatchedEvent watchedEvent, CancellationToken cancellationToken)
    {
        if (ZooKeeperPath.Parent(watchedEvent.Path) != _root.Nodes)
        {
            return;
        }

        string name = watchedEvent.Path[(_root.Nodes.Length + 1)..];
        Member? member = watchedEvent.Type == WatchEventType.NodeDeleted ? null : await ReadAsync(name, cancellationToken).ConfigureAwait(false);
        bool changed;
        lock (_gate)
        {
            changed = member is null
                ? _members.Remove(name)
                : !_members.TryGetValue(name, out Member? known) || known != member;
            if (member is not null)
            {
                _members[name] = member;
            }
        }

        if (changed)
        {
            Publish(force: false);
        }
    }

    private async Task<Member?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            NodeData node = await _root.Client.GetDataAsync(_root.Nodes + "/" + name, cancellationToken).ConfigureAwait(false);
            return Member.TryParse(name, node.Data, out Member? member) ? member : null;
        }
        catch (NoNodeException)
        {
            return null;
        }
    }

    private void Publish(bool force)
    {
        IReadOnlyList<Member> next;
        lock (_gate)
        {
            next = [.. _members.Values.OrderBy(m => m.Endpoint, StringComparer.Ordinal)];
        }

        IReadOnlyList<Member> previous = Interlocked.Exchange(ref _current, next);
        if (force || !previous.SequenceEqual(next))
        {
            _changes.Writer.TryWrite(next);
        }
    }
}
