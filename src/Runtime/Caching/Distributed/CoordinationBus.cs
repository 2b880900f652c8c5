using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using TypedCache.Coordination;
using TypedCache.Diagnostics;
using TypedCache.ZooKeeper;

namespace TypedCache.Caching.Distributed;

/// <summary>Called for each key another process (or this one) invalidated: the type's name and the key's parts.</summary>
internal delegate void RemoteKeyHandler(string type, ReadOnlySpan<byte> keyParts);

/// <summary>
/// The engine's link to ZooKeeper: follows the type and tag versions and the invalidation event log, and sends this
/// process's invalidations through one ordered queue, in the background unless
/// <see cref="DistributedCacheOptions.AwaitInvalidationBroadcast"/> is set. While ZooKeeper is unreachable the queue
/// holds them and callers do not wait (bounded:
/// past <see cref="DistributedCacheOptions.InvalidationQueueCapacity"/> a key invalidation becomes a bump of its
/// type, which invalidates more but never less) and sends them, in order, when it returns.
/// </summary>
/// <remarks>
/// No linger on either side. An invalidation queued while nothing is being sent is written to ZooKeeper on the
/// caller's thread at once; those queued while a write is in flight go together in the next event. Remote events are
/// handed to the engine on the ZooKeeper client's read thread (see <see cref="EventLogSubscription"/>).
/// </remarks>
internal sealed class CoordinationBus : IAsyncDisposable
{
    private const int MaxKeysPerEvent = 1000;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan StartRetryWindow = TimeSpan.FromSeconds(15);

    private readonly ZooKeeperClient _client;
    private readonly DistributedCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly EventLog _log;
    private readonly VersionCounters _counters;
    private readonly LinkedList<Pending> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>True while a sender runs (under the queue's lock); <see cref="_sender"/> is that sender.</summary>
    private bool _sending;
    private Task _sender = Task.CompletedTask;

    private CoordinationBus(ZooKeeperClient client, CoordinationRoot root, DistributedCacheOptions options, TimeProvider time)
    {
        _client = client;
        Root = root;
        _options = options;
        _time = time;
        _log = new EventLog(root);
        _counters = new VersionCounters(root);
    }

    public CoordinationRoot Root { get; }

    /// <summary>How many invalidations wait to be sent.</summary>
    public int Queued
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>
    /// Connects and subscribes; a connection lost while starting (a member dying, a leader election) starts over with
    /// backoff for up to <see cref="StartRetryWindow"/>, then the loss reaches the caller.
    /// </summary>
    public static async Task<CoordinationBus> StartAsync(
        ZooKeeperSettings settings,
        DistributedCacheOptions options,
        TimeProvider time,
        RemoteKeyHandler onKey,
        Action onMissed,
        Action<VersionKind, string, long> onVersion,
        CancellationToken cancellationToken,
        IEventLogTrace? trace = null)
    {
        var giveUp = DateTime.UtcNow + StartRetryWindow;
        var retry = FirstRetry;
        while (true)
        {
            try
            {
                return await StartOnceAsync().ConfigureAwait(false);
            }
            catch (ConnectionLossException) when (DateTime.UtcNow < giveUp)
            {
                // Real time on purpose: this waits for the network, not for cache expiry.
                await Task.Delay(retry, cancellationToken).ConfigureAwait(false);
                retry = retry * 2 > LastRetry ? LastRetry : retry * 2;
            }
        }

        async Task<CoordinationBus> StartOnceAsync()
        {
            var client = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = settings.ConnectString, RenewSessionOnExpiry = true, Logger = settings.Logger }, cancellationToken).ConfigureAwait(false);
            CoordinationBus? bus = null;
            try
            {
                var root = await CoordinationRoot.OpenAsync(client, settings.Root, cancellationToken: cancellationToken).ConfigureAwait(false);
                bus = new CoordinationBus(client, root, options, time);
                var versions = await VersionWatcher.StartAsync(root, cancellationToken).ConfigureAwait(false);
                bus._owned.Add(versions);
                while (versions.Changes.TryRead(out var change))
                {
                    onVersion(change.Kind, change.Name, change.Version);
                }

                var after = await bus._log.LatestSequenceAsync(cancellationToken).ConfigureAwait(false);
                var subscription = await bus._log.SubscribeAsync(after, item => OnItem(item, onKey, onMissed), trace, cancellationToken).ConfigureAwait(false);
                bus._owned.Add(subscription);
                var latch = LeaderLatch.Start(root, Guid.NewGuid().ToString("N"));
                bus._owned.Add(latch);
                bus._owned.Add(EventLogPruner.Start(latch, bus._log, EventLogRetention.Default, TimeSpan.FromMinutes(1)));
                bus._loops.Add(Task.Run(() => FollowVersionsAsync(versions, onVersion), CancellationToken.None));
                return bus;
            }
            catch
            {
                if (bus is not null)
                {
                    await bus.DisposeAsync().ConfigureAwait(false);
                }
                else
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                }

                throw;
            }
        }
    }

    /// <summary>
    /// Queues a key invalidation for every process's L1. Returns at once unless
    /// <see cref="DistributedCacheOptions.AwaitInvalidationBroadcast"/> is set and ZooKeeper is connected: then it
    /// waits (bounded) until ZooKeeper has it.
    /// </summary>
    public Task PublishKeyAsync(string type, string key, CancellationToken cancellationToken)
    {
        Pending pending;
        lock (_queue)
        {
            pending = _queue.Count < _options.InvalidationQueueCapacity
                ? new Pending(PendingKind.Key, type, key, null)
                : new Pending(PendingKind.TypeBump, type, null, null);
            _queue.AddLast(pending);
        }

        SendIfIdle();
        return _options.AwaitInvalidationBroadcast ? WaitSentAsync(pending, cancellationToken) : Task.CompletedTask;
    }

    /// <summary>
    /// Bumps a version: at once in this process, in ZooKeeper through the queue. Waits (bounded) until ZooKeeper has
    /// it while connected; returns at once, leaving it queued, while ZooKeeper is away.
    /// </summary>
    public Task BumpAsync(VersionKind kind, string name, StrongBox<long> local, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref local.Value);
        var pending = new Pending(kind == VersionKind.Type ? PendingKind.TypeBump : PendingKind.TagBump, name, null, local);
        lock (_queue)
        {
            _queue.AddLast(pending);
        }

        SendIfIdle();
        return WaitSentAsync(pending, cancellationToken);
    }

    /// <summary>Takes the ZooKeeper lock of one key.</summary>
    /// <exception cref="InvalidOperationException">ZooKeeper is unreachable.</exception>
    /// <exception cref="TimeoutException">The lock was not had within <paramref name="timeout"/>.</exception>
    public async Task<IAsyncDisposable> LockAsync(string type, string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsConnected)
        {
            throw new InvalidOperationException($"ZooKeeper is unreachable ({_client.State}): the lock on {type} key '{key}' cannot be taken.");
        }

        try
        {
            return await DistributedLock.AcquireAsync(Root, Root.LockPath(type, key), timeout, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionLossException exception)
        {
            throw new InvalidOperationException($"ZooKeeper became unreachable while taking the lock on {type} key '{key}'.", exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await FlushAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        Task sender;
        lock (_queue)
        {
            sender = _sender;
        }

        await Task.WhenAll([.. _loops, sender]).ConfigureAwait(false);
        await _client.DisposeAsync().ConfigureAwait(false);
        lock (_queue)
        {
            foreach (var pending in _queue)
            {
                pending.Sent.TrySetCanceled();
            }
        }

        _stop.Dispose();
    }

    /// <summary>
    /// Lets the sender write what is queued before the bus stops, so a process that stops right after its last
    /// invalidation returned loses none; at most <see cref="DistributedCacheOptions.InvalidationSendTimeout"/>, and not
    /// at all while ZooKeeper is away (the queue is lost with the process then, as the option documents).
    /// </summary>
    private async Task FlushAsync()
    {
        Task sender;
        lock (_queue)
        {
            sender = _sender;
        }

        if (!sender.IsCompleted && IsConnected)
        {
            try
            {
                // Real time on purpose: this waits for the network, not for cache expiry.
                await sender.WaitAsync(_options.InvalidationSendTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // ZooKeeper is too slow: what is still queued is dropped with the process.
            }
        }
    }

    private bool IsConnected => _client.State is ConnectionState.Connected or ConnectionState.Reconnected;

    /// <summary>Waits until ZooKeeper has <paramref name="pending"/>, at most <see cref="DistributedCacheOptions.InvalidationSendTimeout"/>, and not at all while it is away.</summary>
    private Task WaitSentAsync(Pending pending, CancellationToken cancellationToken) =>
        pending.Sent.Task.IsCompleted ? pending.Sent.Task
        : IsConnected ? WaitConnectedAsync(pending, cancellationToken)
        : Task.CompletedTask;

    private async Task WaitConnectedAsync(Pending pending, CancellationToken cancellationToken)
    {
        try
        {
            await pending.Sent.Task.WaitAsync(_options.InvalidationSendTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // ZooKeeper is slow or away: the invalidation stays queued and is sent, in order, when it returns.
        }
    }

    private static async Task FollowVersionsAsync(VersionWatcher versions, Action<VersionKind, string, long> onVersion)
    {
        await foreach (var change in versions.Changes.ReadAllAsync().ConfigureAwait(false))
        {
            onVersion(change.Kind, change.Name, change.Version);
        }
    }

    /// <summary>Hands one event-log item to the engine (on the ZooKeeper read thread for live events: no allocation per key).</summary>
    private static void OnItem(EventLogItem item, RemoteKeyHandler onKey, Action onMissed)
    {
        if (item.Kind == EventLogItemKind.Missed)
        {
            onMissed();
            return;
        }

        Span<byte> buffer = stackalloc byte[256];
        foreach (var key in item.Keys)
        {
            var bytes = key.Key.Length <= buffer.Length ? buffer : new byte[key.Key.Length];
            onKey(key.Type, bytes[..Encoding.ASCII.GetBytes(key.Key, bytes)]);
        }
    }

    /// <summary>Starts a sender when none runs; it writes the queue's head on this thread before it first waits.</summary>
    private void SendIfIdle()
    {
        if (Volatile.Read(ref _sending))
        {
            return; // the running sender takes the new item with its next batch
        }

        // The sender outlives this caller: it must not carry the caller's async-local state into later batches.
        using (ExecutionContext.SuppressFlow())
        {
            Task<Task> sender;
            lock (_queue)
            {
                if (_sending || _stop.IsCancellationRequested)
                {
                    return;
                }

                _sending = true;
                sender = new Task<Task>(SendAsync);
                _sender = sender.Unwrap();
            }

            sender.RunSynchronously(TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Sends the queue in order until it is empty: consecutive key invalidations as one event, bumps one by one; retries
    /// with backoff while ZooKeeper is away (the queue holds what arrives meanwhile).
    /// </summary>
    private async Task SendAsync()
    {
        var retry = FirstRetry;
        while (true)
        {
            List<Pending> batch;
            lock (_queue)
            {
                batch = _stop.IsCancellationRequested ? [] : Next();
                if (batch.Count == 0)
                {
                    _sending = false;
                    return;
                }
            }

            try
            {
                if (batch[0].Kind == PendingKind.Key)
                {
                    await _log.AppendAsync([.. batch.Select(p => new KeyInvalidation(p.Name, p.Key!))], _stop.Token).ConfigureAwait(false);
                }
                else
                {
                    var kind = batch[0].Kind == PendingKind.TypeBump ? VersionKind.Type : VersionKind.Tag;
                    var version = await _counters.BumpAsync(kind, batch[0].Name, _stop.Token).ConfigureAwait(false);
                    if (batch[0].Local is { } local)
                    {
                        DistributedCacheEngine.RaiseTo(local, version);
                    }
                }

                Dequeue(batch, null);
                retry = FirstRetry;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (KeeperException)
            {
                try
                {
                    await Task.Delay(retry, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = retry * 2 > LastRetry ? LastRetry : retry * 2;
            }
#pragma warning disable CA1031 // Anything but ZooKeeper being away (a corrupt version node) fails these callers, not the queue.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Dequeue(batch, ex);
            }
        }
    }

    /// <summary>Removes a sent (or failed) batch from the queue and completes its callers.</summary>
    private void Dequeue(List<Pending> batch, Exception? failure)
    {
        lock (_queue)
        {
            foreach (var sent in batch)
            {
                _queue.Remove(sent);
            }
        }

        foreach (var sent in batch)
        {
            if (failure is null)
            {
                CacheTelemetry.InvalidationSent(sent.Kind == PendingKind.TagBump ? null : sent.Name, sent.QueuedAt);
                sent.Sent.TrySetResult();
            }
            else
            {
                sent.Sent.TrySetException(failure);
            }
        }
    }

    /// <summary>The head of the queue: a run of key invalidations, or one bump.</summary>
    private List<Pending> Next()
    {
        lock (_queue)
        {
            var batch = new List<Pending>();
            foreach (var pending in _queue)
            {
                if (batch.Count > 0 && (pending.Kind != PendingKind.Key || batch[0].Kind != PendingKind.Key || batch.Count == MaxKeysPerEvent))
                {
                    break;
                }

                batch.Add(pending);
                if (pending.Kind != PendingKind.Key)
                {
                    break;
                }
            }

            return batch;
        }
    }

    private enum PendingKind
    {
        Key,
        TypeBump,
        TagBump,
    }

    /// <summary>One queued invalidation and the task its caller waits on.</summary>
    private sealed class Pending(PendingKind kind, string name, string? key, StrongBox<long>? local)
    {
        public PendingKind Kind { get; } = kind;

        public string Name { get; } = name;

        public string? Key { get; } = key;

        public StrongBox<long>? Local { get; } = local;

        public TaskCompletionSource Sent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long QueuedAt { get; } = Stopwatch.GetTimestamp();
    }
}
