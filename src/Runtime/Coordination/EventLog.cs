using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>What an <see cref="EventLogItem"/> says.</summary>
internal enum EventLogItemKind
{
    /// <summary>A batch of key invalidations.</summary>
    Batch,

    /// <summary>
    /// Events up to <see cref="EventLogItem.Sequence"/> may be lost to this reader (pruned before it read them, or
    /// unreadable): whatever they could have invalidated must be treated as invalid.
    /// </summary>
    Missed,
}

/// <summary>One item read from the event log, in sequence order.</summary>
/// <param name="Kind">A batch, or a notice of missed events.</param>
/// <param name="Sequence">The event's sequence number (for <see cref="EventLogItemKind.Missed"/>: the last one missed).</param>
/// <param name="Keys">The batch's keys (empty for <see cref="EventLogItemKind.Missed"/>).</param>
internal sealed record EventLogItem(EventLogItemKind Kind, long Sequence, IReadOnlyList<KeyInvalidation> Keys);

/// <summary>
/// Told, on the subscriber's side, when an event's watch notification arrives and when the event's keys have been
/// read: the stage timestamps of the propagation benchmark (bench/TypedCache.Benchmarks, <c>engine-propagation</c>).
/// Called inline on the delivery path, so implementations only take a timestamp.
/// </summary>
internal interface IEventLogTrace
{
    /// <summary>The notification of event <paramref name="sequence"/> arrived.</summary>
    void Notified(long sequence);

    /// <summary>Event <paramref name="sequence"/> was read and is about to be handed over.</summary>
    void Read(long sequence);
}

/// <summary>How much of the event log the leader keeps.</summary>
/// <param name="MaxEvents">Events beyond the newest this many are pruned.</param>
/// <param name="MaxAge">Events created this long before the newest event are pruned (server clock only, no skew).</param>
internal sealed record EventLogRetention(int MaxEvents, TimeSpan MaxAge)
{
    /// <summary>10,000 events, 10 minutes.</summary>
    public static EventLogRetention Default { get; } = new(10_000, TimeSpan.FromMinutes(10));
}

/// <summary>
/// The event log <c>{root}/events/ev-{seq}</c>: persistent-sequential nodes, one batch of key invalidations each
/// (<see cref="InvalidationBatch"/>), read in sequence order. The leader prunes old events; before deleting, it
/// records the highest pruned sequence as the decimal data of <c>{root}/events</c>, so a reader that falls behind
/// learns that it missed events instead of silently skipping them.
/// </summary>
internal sealed class EventLog(CoordinationRoot root)
{
    /// <summary>Batches are split so that each node stays far below ZooKeeper's 1 MB request limit.</summary>
    internal const int MaxPayloadBytes = 256 * 1024;

    /// <summary>Appends <paramref name="keys"/> as one event (or several, in order, when the batch is large).</summary>
    /// <returns>The sequence number of the last event written.</returns>
    public async Task<long> AppendAsync(IReadOnlyList<KeyInvalidation> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            throw new ArgumentException("An invalidation batch needs at least one key.", nameof(keys));
        }

        long sequence = -1;
        foreach (byte[] payload in Split(keys))
        {
            sequence = await CreateAsync(payload, cancellationToken).ConfigureAwait(false);
        }

        return sequence;
    }

    /// <summary>The newest event's sequence number, or -1 when the log is empty: a new reader starts after it.</summary>
    public async Task<long> LatestSequenceAsync(CancellationToken cancellationToken = default)
    {
        List<(string Name, long Sequence)> events = await ListAsync(cancellationToken).ConfigureAwait(false);
        long pruned = await PrunedThroughAsync(cancellationToken).ConfigureAwait(false);
        return Math.Max(events.Count == 0 ? -1 : events[^1].Sequence, pruned);
    }

    /// <summary>
    /// Reads every event after <paramref name="afterSequence"/>, in order (the reads pipelined), with a Missed item first
    /// if some were pruned. More than <paramref name="maxEvents"/> events behind, it reads none of them and returns one
    /// Missed item for them all: a reader that far behind drops what it holds sooner than it could replay them.
    /// </summary>
    public async Task<List<EventLogItem>> ReadAsync(long afterSequence, int maxEvents = int.MaxValue, CancellationToken cancellationToken = default)
    {
        // List first, then read the pruned mark: pruning between the two then shows as missed, never as silence.
        List<(string Name, long Sequence)> events = await ListAsync(cancellationToken).ConfigureAwait(false);
        long pruned = await PrunedThroughAsync(cancellationToken).ConfigureAwait(false);
        var behind = events.FindAll(e => e.Sequence > afterSequence && e.Sequence > pruned);
        if (behind.Count > maxEvents)
        {
            return [new EventLogItem(EventLogItemKind.Missed, behind[^1].Sequence, [])];
        }

        var items = new List<EventLogItem>(behind.Count + 1);
        if (pruned > afterSequence)
        {
            items.Add(new EventLogItem(EventLogItemKind.Missed, pruned, []));
        }

        items.AddRange(await Task.WhenAll(behind.Select(e => ReadEventAsync(root.Events + "/" + e.Name, e.Sequence, onReadThread: false, cancellationToken))).ConfigureAwait(false));
        return items;
    }

    /// <summary>
    /// Follows the log from <paramref name="afterSequence"/>: every later event once, in order, through a persistent
    /// recursive watch, with a full catch-up after each reconnect. Dispose the subscription to stop.
    /// </summary>
    /// <param name="afterSequence">The last sequence already seen.</param>
    /// <param name="onItem">
    /// Called with each item, in sequence order, one at a time: on the ZooKeeper client's read thread for live events, on
    /// a pool thread for catch-ups. It must be short and must not block (the read thread reads nothing else meanwhile);
    /// an exception it throws is logged.
    /// </param>
    /// <param name="trace">Told of each notified event's stages; null for none.</param>
    /// <param name="cancellationToken">Cancels the first catch-up.</param>
    /// <returns>The running subscription, once the first catch-up has been handed over.</returns>
    public Task<EventLogSubscription> SubscribeAsync(long afterSequence, Action<EventLogItem> onItem, IEventLogTrace? trace = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onItem);
        return EventLogSubscription.StartAsync(this, root, afterSequence, onItem, trace, cancellationToken);
    }

    /// <summary>How many events the log holds now, read from its node's stat: one small read, however long the log.</summary>
    public async Task<int> CountAsync(CancellationToken cancellationToken = default) =>
        (await root.Client.ExistsAsync(root.Events, cancellationToken).ConfigureAwait(false))?.NumChildren ?? 0;

    /// <summary>
    /// Deletes the events <paramref name="retention"/> no longer keeps (the leader's job): the oldest beyond
    /// <see cref="EventLogRetention.MaxEvents"/>, and any older than <see cref="EventLogRetention.MaxAge"/> before the newest.
    /// The newest event is always kept. Events are created in sequence order, so their creation times never decrease
    /// along the log and the ones past the age are a prefix of it: a binary search finds its end with a few stat reads
    /// rather than one per event, which matters when the pruner runs every second on a log of thousands.
    /// </summary>
    /// <returns>How many events were deleted.</returns>
    public async Task<int> PruneAsync(EventLogRetention retention, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(retention);
        List<(string Name, long Sequence)> events = await ListAsync(cancellationToken).ConfigureAwait(false);
        if (events.Count == 0)
        {
            return 0;
        }

        ZooKeeperClient client = root.Client;
        long maxAge = (long)retention.MaxAge.TotalMilliseconds;
        int prune = Math.Min(Math.Max(0, events.Count - retention.MaxEvents), events.Count - 1);
        if (await client.ExistsAsync(root.Events + "/" + events[^1].Name, cancellationToken).ConfigureAwait(false) is { } newest)
        {
            int young = events.Count - 1;
            while (prune < young)
            {
                // An event deleted meanwhile (by an earlier leader's prune) counts as past the age, as an older one would be.
                int middle = prune + ((young - prune) / 2);
                Stat? stat = await client.ExistsAsync(root.Events + "/" + events[middle].Name, cancellationToken).ConfigureAwait(false);
                if (stat is not { } found || newest.Ctime - found.Ctime > maxAge)
                {
                    prune = middle + 1;
                }
                else
                {
                    young = middle;
                }
            }
        }

        if (prune == 0)
        {
            return 0;
        }

        await MarkPrunedAsync(events[prune - 1].Sequence, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(events.Take(prune).Select(e => DeleteIgnoringMissingAsync(root.Events + "/" + e.Name, cancellationToken))).ConfigureAwait(false);
        return prune;
    }

    /// <summary>Reads one event; with <paramref name="onReadThread"/>, the continuation runs on the client's read thread.</summary>
    internal async Task<EventLogItem> ReadEventAsync(string path, long sequence, bool onReadThread, CancellationToken cancellationToken)
    {
        NodeData node;
        try
        {
            node = await (onReadThread ? root.Client.GetDataOnReadThreadAsync(path) : root.Client.GetDataAsync(path, cancellationToken)).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
            return new EventLogItem(EventLogItemKind.Missed, sequence, []);
        }

        return InvalidationBatch.TryDecode(node.Data, out List<KeyInvalidation> keys) == BatchDecodeResult.Ok
            ? new EventLogItem(EventLogItemKind.Batch, sequence, keys)
            : new EventLogItem(EventLogItemKind.Missed, sequence, []);
    }

    private static IEnumerable<byte[]> Split(IReadOnlyList<KeyInvalidation> keys)
    {
        byte[] whole = InvalidationBatch.Encode(keys);
        if (whole.Length <= MaxPayloadBytes || keys.Count == 1)
        {
            yield return whole;
            yield break;
        }

        int half = keys.Count / 2;
        foreach (byte[] part in Split([.. keys.Take(half)]).Concat(Split([.. keys.Skip(half)])))
        {
            yield return part;
        }
    }

    private async Task DeleteIgnoringMissingAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await root.Client.DeleteAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NoNodeException)
        {
        }
    }

    private async Task<long> CreateAsync(byte[] payload, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var created = await root.Client.CreateAsync(root.Events + "/" + SequentialNames.EventPrefix, payload, CreateMode.PersistentSequential, root.Acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                return SequentialNames.Sequence(created.Path[(root.Events.Length + 1)..], SequentialNames.EventPrefix)!.Value;
            }
            catch (NoNodeException) when (attempt == 1)
            {
                await root.EnsurePathAsync(root.Events, CreateMode.Persistent, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<List<(string Name, long Sequence)>> ListAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> children;
        try
        {
            children = (await root.Client.GetChildrenAsync(root.Events, cancellationToken).ConfigureAwait(false)).Children;
        }
        catch (NoNodeException)
        {
            return [];
        }

        return [.. SequentialNames.Sorted(children, SequentialNames.EventPrefix).Select(n => (n, SequentialNames.Sequence(n, SequentialNames.EventPrefix)!.Value))];
    }

    private async Task<long> PrunedThroughAsync(CancellationToken cancellationToken)
    {
        try
        {
            NodeData node = await root.Client.GetDataAsync(root.Events, cancellationToken).ConfigureAwait(false);
            return node.Data.Length > 0 && VersionCounters.TryParse(node.Data, out long pruned) ? pruned : -1;
        }
        catch (NoNodeException)
        {
            return -1;
        }
    }

    private async Task MarkPrunedAsync(long through, CancellationToken cancellationToken)
    {
        while (true)
        {
            NodeData node = await root.Client.GetDataAsync(root.Events, cancellationToken).ConfigureAwait(false);
            if (node.Data.Length > 0 && VersionCounters.TryParse(node.Data, out long pruned) && pruned >= through)
            {
                return;
            }

            try
            {
                await root.Client.SetDataAsync(root.Events, VersionCounters.Format(through), node.Stat.Version, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (BadVersionException)
            {
            }
        }
    }
}

/// <summary>A reader following the event log; see <see cref="EventLog.SubscribeAsync"/>.</summary>
/// <remarks>
/// Live events take the short path: the watch notification is handled on the ZooKeeper client's read thread, which sends
/// the event's getData at once, and the reply, read on that same thread, is decoded and handed over there. No thread hop
/// lies between the notification and the handler, and events announced together have their reads in flight together.
/// A catch-up (at start, after every reconnect, after a failed read) reads the log on a pool thread (at most
/// <see cref="MaxCatchUpEvents"/> events; further behind it hands over one Missed item); while one is due or
/// running, live events wait behind it in the same FIFO, so items are handed over in sequence order, each once. The
/// first notification on a new connection makes a catch-up due (events created while no connection was up sent none),
/// so a live event is never handed over ahead of an older one that was missed.
/// </remarks>
internal sealed class EventLogSubscription : IAsyncDisposable
{
    /// <summary>
    /// The most events a catch-up replays; further behind (a long partition from ZooKeeper under a heavy write load),
    /// it hands over one Missed item instead, so the holder drops its in-process entries at once rather than after
    /// replaying thousands of events one round trip after another.
    /// </summary>
    internal const int MaxCatchUpEvents = 1024;

    private readonly EventLog _log;
    private readonly CoordinationRoot _root;
    private readonly Action<EventLogItem> _onItem;
    private readonly IEventLogTrace? _trace;
    private readonly Lock _gate = new();
    private readonly Queue<Notified> _notified = new();
    private bool _catchingUp = true;
    private long _caughtUpOn;
    private bool _disposed;
    private long _last;
    private TreeWatch? _watch;

    private EventLogSubscription(EventLog log, CoordinationRoot root, long afterSequence, Action<EventLogItem> onItem, IEventLogTrace? trace)
    {
        _log = log;
        _root = root;
        _last = afterSequence;
        _onItem = onItem;
        _trace = trace;
    }

    /// <summary>The last sequence handed over.</summary>
    public long LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    internal static async Task<EventLogSubscription> StartAsync(EventLog log, CoordinationRoot root, long afterSequence, Action<EventLogItem> onItem, IEventLogTrace? trace, CancellationToken cancellationToken)
    {
        var subscription = new EventLogSubscription(log, root, afterSequence, onItem, trace);
        subscription._watch = await TreeWatch.StartAsync(root.Client, root.Events, subscription.CatchUpAsync, subscription.OnNotified, cancellationToken).ConfigureAwait(false);
        return subscription;
    }

    /// <summary>Stops following the log: no item is handed over once this returns.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
        }

        if (_watch is not null)
        {
            await _watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>On the read thread: queues a newly created event and, unless a catch-up is due, sends its read at once.</summary>
    private void OnNotified(WatchedEvent watchedEvent)
    {
        // Creations arrive in zxid order, which is sequence order.
        if (watchedEvent.Type != WatchEventType.NodeCreated || ZooKeeperPath.Parent(watchedEvent.Path) != _root.Events ||
            SequentialNames.Sequence(watchedEvent.Path[(_root.Events.Length + 1)..], SequentialNames.EventPrefix) is not { } sequence)
        {
            return;
        }

        _trace?.Notified(sequence);
        lock (_gate)
        {
            if (sequence <= _last || _disposed)
            {
                return;
            }

            var notified = new Notified(watchedEvent.Path, sequence);
            _notified.Enqueue(notified);
            if (!_catchingUp && _root.Client.ConnectionCount != _caughtUpOn)
            {
                // The first event on a new connection: events created while none was up sent no notification, so this
                // one waits for the catch-up that reads them first.
                _catchingUp = true;
                _watch?.RequestResync();
            }

            if (!_catchingUp)
            {
                StartRead(notified);
            }
        }
    }

    /// <summary>Under the gate: sends the read of one queued event; the reply is handled on the read thread.</summary>
    private void StartRead(Notified notified)
    {
        notified.Reading = true;
        _ = ReadLiveAsync(notified);
    }

    private async Task ReadLiveAsync(Notified notified)
    {
        EventLogItem? item = null;
        try
        {
            item = await _log.ReadEventAsync(notified.Path, notified.Sequence, onReadThread: true, CancellationToken.None).ConfigureAwait(false);
            _trace?.Read(notified.Sequence);
        }
#pragma warning disable CA1031 // Whatever failed (the connection, mostly), the catch-up this asks for reads the event again.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        lock (_gate)
        {
            notified.Reading = false;
            notified.Item = item;
            if (item is null)
            {
                _catchingUp = true;
                _watch?.RequestResync();
            }
            else if (!_catchingUp)
            {
                HandOverReady();
            }
        }
    }

    /// <summary>Under the gate: hands over the queue's head while its events are read, skipping those handed over already.</summary>
    private void HandOverReady()
    {
        while (_notified.TryPeek(out Notified? head) && (head.Item is not null || head.Sequence <= _last))
        {
            _notified.Dequeue();
            if (head.Item is not null)
            {
                Publish(head.Item);
            }
        }
    }

    /// <summary>
    /// Reads the whole log after the last item, then every event notified meanwhile; live reads resume after it. A new
    /// connection while it runs starts it over, so an event notified on that connection is never handed over ahead of
    /// older ones created while no connection was up.
    /// </summary>
    private async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        while (!await CatchUpOnceAsync(cancellationToken).ConfigureAwait(false))
        {
        }
    }

    /// <returns>False when a new connection came up meanwhile (the catch-up must run again).</returns>
    private async Task<bool> CatchUpOnceAsync(CancellationToken cancellationToken)
    {
        long after;
        long connection;
        lock (_gate)
        {
            _catchingUp = true;
            after = _last;
            connection = _root.Client.ConnectionCount;
        }

        List<EventLogItem> items = await _log.ReadAsync(after, MaxCatchUpEvents, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_root.Client.ConnectionCount != connection)
            {
                return false;
            }

            // The listing is complete up to its moment, and every event created since was notified on this same
            // connection and queued, in order: hand the listing over, then let the queue go on as live reads.
            items.ForEach(Publish);
            _catchingUp = false;
            _caughtUpOn = connection;
            foreach (Notified notified in _notified)
            {
                if (notified.Sequence > _last && !notified.Reading && notified.Item is null)
                {
                    StartRead(notified);
                }
            }

            HandOverReady();
            return true;
        }
    }

    /// <summary>Under the gate: hands <paramref name="item"/> over unless it is not newer than the last one.</summary>
    private void Publish(EventLogItem item)
    {
        if (item.Sequence <= _last || _disposed)
        {
            return;
        }

        _last = item.Sequence;
        try
        {
            _onItem(item);
        }
#pragma warning disable CA1031 // A failing handler must not stop the subscription (nor, on the read thread, the connection).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CoordinationLog.ItemHandlerFailed(_root.Client.Logger, ex);
        }
    }

    /// <summary>An event announced by its watch notification, waiting to be handed over.</summary>
    private sealed class Notified(string path, long sequence)
    {
        public string Path { get; } = path;

        public long Sequence { get; } = sequence;

        /// <summary>The event, once read.</summary>
        public EventLogItem? Item { get; set; }

        /// <summary>A read of the event is in flight.</summary>
        public bool Reading { get; set; }
    }
}
