using System.Threading.Channels;
using TypedCache.ZooKeeper.Protocol;

namespace TypedCache.ZooKeeper;

internal enum WatchKind
{
    Data,
    Exist,
    Child,
}

/// <summary>
/// The client-side watch tables (the semantics of Java's <c>ZKWatchManager</c>): one-shot data, exist and child
/// watches, and persistent and persistent-recursive watches. Registration and delivery happen on the read loop,
/// in wire order; one-shot watches complete their task, persistent ones write to their channel.
/// </summary>
internal sealed class ZooKeeperWatches
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<TaskCompletionSource<WatchedEvent>>>[] _oneShot = [new(), new(), new()];
    private readonly Dictionary<string, List<PersistentWatch>> _persistent = [];
    private readonly Dictionary<string, List<PersistentWatch>> _recursive = [];

    public void Register(WatchKind kind, string path, TaskCompletionSource<WatchedEvent> watch)
    {
        lock (_lock)
        {
            Add(_oneShot[(int)kind], path, watch);
        }
    }

    public void Register(PersistentWatch watch)
    {
        lock (_lock)
        {
            Add(watch.Mode == AddWatchMode.Persistent ? _persistent : _recursive, watch.Path, watch);
        }
    }

    /// <summary>Forgets <paramref name="watch"/>; true when no watch of any kind is left on its path.</summary>
    public bool Unregister(PersistentWatch watch)
    {
        lock (_lock)
        {
            Dictionary<string, List<PersistentWatch>> table = watch.Mode == AddWatchMode.Persistent ? _persistent : _recursive;
            if (table.TryGetValue(watch.Path, out List<PersistentWatch>? list) && list.Remove(watch) && list.Count == 0)
            {
                table.Remove(watch.Path);
            }

            return !_persistent.ContainsKey(watch.Path) && !_recursive.ContainsKey(watch.Path) &&
                   !_oneShot.Any(t => t.ContainsKey(watch.Path));
        }
    }

    /// <summary>
    /// Forgets the one-shot watch whose task is <paramref name="watch"/> and cancels it. Returns the server watch type
    /// to remove as well, or null when the server's watch must stay: another one-shot watch of the same type (or a
    /// persistent watch, which some servers remove along with it) still needs it, or the watch was not found.
    /// </summary>
    public WatcherType? UnregisterOneShot(string path, Task<WatchedEvent> watch)
    {
        TaskCompletionSource<WatchedEvent>? removed = null;
        WatchKind kind = WatchKind.Data;
        lock (_lock)
        {
            for (int k = 0; k < _oneShot.Length && removed is null; k++)
            {
                if (_oneShot[k].TryGetValue(path, out List<TaskCompletionSource<WatchedEvent>>? list) &&
                    list.Find(w => w.Task == watch) is { } found)
                {
                    list.Remove(found);
                    if (list.Count == 0)
                    {
                        _oneShot[k].Remove(path);
                    }

                    removed = found;
                    kind = (WatchKind)k;
                }
            }

            if (removed is null)
            {
                return null;
            }

            removed.TrySetCanceled();
            bool stillNeeded = _persistent.ContainsKey(path) || _recursive.ContainsKey(path) || (kind == WatchKind.Child
                ? _oneShot[(int)WatchKind.Child].ContainsKey(path)
                : _oneShot[(int)WatchKind.Data].ContainsKey(path) || _oneShot[(int)WatchKind.Exist].ContainsKey(path));
            return stillNeeded ? null : kind == WatchKind.Child ? WatcherType.Children : WatcherType.Data;
        }
    }

    /// <summary>Drops this client's watches of <paramref name="type"/> on <paramref name="path"/> after the server removed them.</summary>
    public void RemoveLocal(string path, WatcherType type)
    {
        lock (_lock)
        {
            if (type is WatcherType.Data or WatcherType.Any)
            {
                Cancel(_oneShot[(int)WatchKind.Data], path);
                Cancel(_oneShot[(int)WatchKind.Exist], path);
            }

            if (type is WatcherType.Children or WatcherType.Any)
            {
                Cancel(_oneShot[(int)WatchKind.Child], path);
            }

            if (type == WatcherType.Any)
            {
                foreach (Dictionary<string, List<PersistentWatch>> table in (Dictionary<string, List<PersistentWatch>>[])[_persistent, _recursive])
                {
                    if (table.Remove(path, out List<PersistentWatch>? watches))
                    {
                        watches.ForEach(w => w.Complete(null));
                    }
                }
            }
        }
    }

    public void Deliver(WatchEventType type, string path)
    {
        var watchedEvent = new WatchedEvent(type, path);
        lock (_lock)
        {
            switch (type)
            {
                case WatchEventType.NodeCreated or WatchEventType.NodeDataChanged:
                    Fire(_oneShot[(int)WatchKind.Data], path, watchedEvent);
                    Fire(_oneShot[(int)WatchKind.Exist], path, watchedEvent);
                    break;
                case WatchEventType.NodeChildrenChanged:
                    Fire(_oneShot[(int)WatchKind.Child], path, watchedEvent);
                    break;
                case WatchEventType.NodeDeleted:
                    Fire(_oneShot[(int)WatchKind.Data], path, watchedEvent);
                    Fire(_oneShot[(int)WatchKind.Exist], path, watchedEvent);
                    Fire(_oneShot[(int)WatchKind.Child], path, watchedEvent);
                    break;
            }

            if (_persistent.TryGetValue(path, out List<PersistentWatch>? persistent))
            {
                foreach (PersistentWatch watch in persistent)
                {
                    watch.Write(watchedEvent);
                }
            }

            if (_recursive.Count > 0 && type != WatchEventType.NodeChildrenChanged)
            {
                for (string? node = path; node is not null; node = ZooKeeperPath.Parent(node))
                {
                    if (_recursive.TryGetValue(node, out List<PersistentWatch>? recursive))
                    {
                        foreach (PersistentWatch watch in recursive)
                        {
                            watch.Write(watchedEvent);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The setWatches2 requests that re-arm every watch, batched so each frame stays far below the server's limit.</summary>
    public List<SetWatchesRequest> CreateSetWatches(string chroot, long relativeZxid)
    {
        const int batchBytes = 128 * 1024;
        var requests = new List<SetWatchesRequest>();
        lock (_lock)
        {
            IEnumerable<(int List, string Path)> all =
                _oneShot.SelectMany((table, i) => table.Keys.Select(path => (i, path)))
                    .Concat(_persistent.Keys.Select(path => (3, path)))
                    .Concat(_recursive.Keys.Select(path => (4, path)));
            List<string>[]? lists = null;
            int bytes = 0;
            foreach ((int list, string path) in all)
            {
                lists ??= [[], [], [], [], []];
                string serverPath = chroot.Length == 0 ? path : path == "/" ? chroot : chroot + path;
                lists[list].Add(serverPath);
                bytes += serverPath.Length + 4;
                if (bytes >= batchBytes)
                {
                    requests.Add(new SetWatchesRequest(relativeZxid, lists));
                    lists = null;
                    bytes = 0;
                }
            }

            if (lists is not null)
            {
                requests.Add(new SetWatchesRequest(relativeZxid, lists));
            }
        }

        return requests;
    }

    /// <summary>Ends every watch: the session expired (an exception) or the client closed (null: cancelled).</summary>
    public void FailAll(Exception? exception)
    {
        lock (_lock)
        {
            foreach (Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> table in _oneShot)
            {
                foreach (TaskCompletionSource<WatchedEvent> watch in table.Values.SelectMany(l => l))
                {
                    if (exception is null)
                    {
                        watch.TrySetCanceled();
                    }
                    else
                    {
                        watch.TrySetException(exception);
                    }
                }

                table.Clear();
            }

            foreach (PersistentWatch watch in _persistent.Values.Concat(_recursive.Values).SelectMany(l => l))
            {
                watch.Complete(exception);
            }

            _persistent.Clear();
            _recursive.Clear();
        }
    }

    private static void Fire(Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> table, string path, WatchedEvent watchedEvent)
    {
        if (table.Remove(path, out List<TaskCompletionSource<WatchedEvent>>? watches))
        {
            foreach (TaskCompletionSource<WatchedEvent> watch in watches)
            {
                watch.TrySetResult(watchedEvent);
            }
        }
    }

    private static void Cancel(Dictionary<string, List<TaskCompletionSource<WatchedEvent>>> table, string path)
    {
        if (table.Remove(path, out List<TaskCompletionSource<WatchedEvent>>? watches))
        {
            watches.ForEach(w => w.TrySetCanceled());
        }
    }

    private static void Add<T>(Dictionary<string, List<T>> table, string path, T item)
    {
        if (!table.TryGetValue(path, out List<T>? list))
        {
            table[path] = list = [];
        }

        list.Add(item);
    }
}

/// <summary>
/// A persistent or persistent-recursive watch added with <see cref="ZooKeeperClient.AddWatchAsync"/>. Its events
/// arrive in order on <see cref="Events"/>; it stays armed across reconnects within the session (changes made while
/// disconnected produce no event: re-read after <see cref="ConnectionState.Reconnected"/>). Dispose it to remove it.
/// </summary>
public sealed class PersistentWatch : IAsyncDisposable
{
    private readonly Channel<WatchedEvent> _events = Channel.CreateUnbounded<WatchedEvent>(
        new UnboundedChannelOptions { SingleWriter = true, AllowSynchronousContinuations = false });

    private readonly ZooKeeperClient _client;
    private readonly Action<WatchedEvent>? _onEvent;

    internal PersistentWatch(ZooKeeperClient client, string path, AddWatchMode mode, Action<WatchedEvent>? onEvent)
    {
        _client = client;
        Path = path;
        Mode = mode;
        _onEvent = onEvent;
    }

    /// <summary>The watched path, relative to the chroot.</summary>
    public string Path { get; }

    /// <summary>Whether the watch covers the node only or every descendant too.</summary>
    public AddWatchMode Mode { get; }

    /// <summary>
    /// The events, in wire order: await <c>ReadAsync</c> or enumerate <c>ReadAllAsync</c>. Completes when the watch is
    /// disposed, or with <see cref="SessionExpiredException"/> when the session expires. The channel is unbounded
    /// (the read thread never waits for a consumer): keep reading it, or dispose the watch.
    /// </summary>
    public ChannelReader<WatchedEvent> Events => _events.Reader;

    /// <summary>Removes the watch (on the server too, when no other watch is left on the path) and completes <see cref="Events"/>.</summary>
    /// <returns>A task that completes when the watch is removed.</returns>
    public ValueTask DisposeAsync() => _client.RemovePersistentWatchAsync(this);

    /// <summary>Hands an event over on the read thread: to the inline handler when there is one, else to <see cref="Events"/>.</summary>
    internal void Write(WatchedEvent watchedEvent)
    {
        if (_onEvent is not null)
        {
            _onEvent(watchedEvent);
        }
        else
        {
            _events.Writer.TryWrite(watchedEvent);
        }
    }

    internal void Complete(Exception? exception) => _events.Writer.TryComplete(exception);
}
