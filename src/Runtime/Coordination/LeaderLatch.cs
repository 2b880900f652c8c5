using System.Text;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// Leader election on <c>{root}/leader</c> as kazoo's <c>Election</c> does it: a <see cref="DistributedLock"/> whose
/// node data is the participant id, so kazoo tooling lists the contenders. The lock holder is the leader; leadership
/// ends when the lock is lost (session expired, or cut off for the session timeout), and the latch then contends
/// again as soon as the client can.
/// </summary>
internal sealed class LeaderLatch : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly CoordinationRoot _root;
    private readonly BackgroundLoop _loop = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource<CancellationToken> _leadership = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LockHandle? _held;

    private LeaderLatch(CoordinationRoot root, string participantId)
    {
        _root = root;
        ParticipantId = participantId;
    }

    /// <summary>The root the latch contends under.</summary>
    public CoordinationRoot Root => _root;

    /// <summary>This participant's id (the node's data).</summary>
    public string ParticipantId { get; }

    /// <summary>True while this participant holds the leadership.</summary>
    public bool IsLeader => _held?.IsHeld == true;

    /// <summary>Starts contending in the background.</summary>
    /// <param name="root">The root.</param>
    /// <param name="participantId">This participant's id, e.g. <c>host:pid</c>.</param>
    /// <returns>The running latch.</returns>
    public static LeaderLatch Start(CoordinationRoot root, string participantId)
    {
        ArgumentException.ThrowIfNullOrEmpty(participantId);
        var latch = new LeaderLatch(root, participantId);
        latch._loop.Start(latch.RunAsync);
        return latch;
    }

    /// <summary>Waits until this participant leads.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>
    /// A token cancelled when this leadership ends (lock lost, or the latch disposed); by then a new call waits for
    /// the next leadership.
    /// </returns>
    /// <exception cref="ObjectDisposedException">The latch was disposed (also while waiting).</exception>
    /// <exception cref="KeeperException">The client can never serve again (closed, authentication failed).</exception>
    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _leadership.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The participant id of the current leader, or null when there is none.</summary>
    public async Task<string?> GetLeaderIdAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            List<string> contenders;
            try
            {
                contenders = SequentialNames.Sorted((await _root.Client.GetChildrenAsync(_root.Leader, cancellationToken).ConfigureAwait(false)).Children, SequentialNames.LockMarker);
            }
            catch (NoNodeException)
            {
                return null;
            }

            if (contenders.Count == 0)
            {
                return null;
            }

            try
            {
                return Encoding.UTF8.GetString((await _root.Client.GetDataAsync(_root.Leader + "/" + contenders[0], cancellationToken).ConfigureAwait(false)).Data);
            }
            catch (NoNodeException)
            {
                // The leader left between the listing and the read.
            }
        }
    }

    /// <summary>Stops contending and gives up the leadership.</summary>
    /// <returns>A task that completes when the latch's node is deleted.</returns>
    public async ValueTask DisposeAsync() => await _loop.StopAsync().ConfigureAwait(false);

    private async Task RunAsync(CancellationToken stop)
    {
        Exception ending = new ObjectDisposedException(nameof(LeaderLatch));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                LockHandle held = await DistributedLock.AcquireAsync(_root, _root.Leader, Timeout.InfiniteTimeSpan, ParticipantId, stop).ConfigureAwait(false);
                await using (held.ConfigureAwait(false))
                {
                    await LeadAsync(held, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is KeeperException or ObjectDisposedException)
            {
                if (_root.Client.State is ConnectionState.Closed or ConnectionState.AuthFailed || ex is ObjectDisposedException)
                {
                    ending = ex;
                    break;
                }

                await Task.Delay(RetryDelay, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception ex)
            {
                await BackgroundLoop.BackOffAfterAsync(_root.Client.Logger, nameof(LeaderLatch), ex, RetryDelay, stop).ConfigureAwait(false);
            }
        }

        // Waiters (also those without a token) learn that no leadership will come.
        lock (_gate)
        {
            _leadership.TrySetException(ending);
        }
    }

    /// <summary>Leads until the lock is lost or the latch stops; the leadership token is cancelled before the lock is released.</summary>
    private async Task LeadAsync(LockHandle held, CancellationToken stop)
    {
        using var term = new CancellationTokenSource();
        _held = held;
        lock (_gate)
        {
            _leadership.TrySetResult(term.Token);
        }

        try
        {
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(stop, held.LockLost);
            await Task.Delay(Timeout.InfiniteTimeSpan, ended.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        finally
        {
            // A new wait is in place before the term ends, so a waiter woken by the end waits for the next term.
            lock (_gate)
            {
                _leadership = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _held = null;
            await term.CancelAsync().ConfigureAwait(false);
        }
    }
}
