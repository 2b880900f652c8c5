using TypedCache.Testing;
using TypedCache.Tests.Coordination;
using TypedCache.ZooKeeper;
using static TypedCache.Tests.ZooKeeper.ZooKeeperTestSupport;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Connection faults and session expiry, through a <see cref="FaultyRelay"/> in front of a real server.</summary>
public sealed class ZooKeeperFaultTests(StandaloneZooKeeperFixture fixture) : IClassFixture<StandaloneZooKeeperFixture>
{
    private async Task<RelayedClient> ConnectThroughRelayAsync(TimeSpan? sessionTimeout = null, Action<ZooKeeperClientOptions>? configure = null)
    {
        FaultyRelay relay = await FaultyRelay.StartAsync("127.0.0.1", fixture.Ensemble.ClientPort(0));
        ZooKeeperClient client = await fixture.ConnectAsync(relay.Endpoint, sessionTimeout, configure);
        StateRecorder states = client.RecordStates();
        return new RelayedClient(relay, client, states, await CreateRootAsync(client));
    }

    [Fact]
    public async Task Garbage_from_the_server_tears_the_connection_down_and_the_session_continues()
    {
        await using RelayedClient relayed = await ConnectThroughRelayAsync();
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;
        await client.CreateAsync(root + "/eph", default, CreateMode.Ephemeral);
        long session = client.SessionId;

        relay.ToClient.Inject([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]);

        await states.WaitForAsync(ConnectionState.Reconnected);
        Assert.Equal([ConnectionState.Suspended, ConnectionState.Reconnected], states.States.SkipWhile(s => s == ConnectionState.Connected));
        Assert.Equal(session, client.SessionId);
        Assert.Equal(session, (await client.ExistsAsync(root + "/eph"))!.Value.EphemeralOwner);
        Assert.Equal(1, relay.ConnectionCount);
    }

    [Fact]
    public async Task A_truncated_reply_fails_its_request_with_ConnectionLoss_and_the_session_continues()
    {
        await using RelayedClient relayed = await ConnectThroughRelayAsync();
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;
        long session = client.SessionId;

        relay.ToClient.TruncateNext(10);
        await Assert.ThrowsAsync<ConnectionLossException>(() => client.GetDataAsync(root));

        await states.WaitForAsync(ConnectionState.Reconnected);
        Assert.Equal(session, client.SessionId);
        Assert.Empty((await client.GetDataAsync(root)).Data);
    }

    [Fact]
    public async Task Requests_in_flight_fail_with_ConnectionLoss_and_new_calls_wait_for_the_reconnect()
    {
        await using RelayedClient relayed = await ConnectThroughRelayAsync();
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;
        await using ZooKeeperClient other = await fixture.ConnectAsync();
        WatchedResult<NodeData> watch = await client.GetDataAndWatchAsync(root);

        relay.ToClient.Paused = true;
        Task<NodeData> inFlight = client.GetDataAsync(root);
        relay.RefuseConnections = true;
        relay.DropConnections();
        await Assert.ThrowsAsync<ConnectionLossException>(() => inFlight.Within());
        await states.WaitForAsync(ConnectionState.Suspended);

        // Made while disconnected: the watch armed before must fire after the reconnect (setWatches2 catch-up).
        await other.SetDataAsync(root, "changed"u8.ToArray());
        Task<NodeData> waiting = client.GetDataAsync(root);
        Assert.False(waiting.IsCompleted);
        relay.ToClient.Paused = false;
        relay.RefuseConnections = false;

        Assert.Equal("changed"u8.ToArray(), (await waiting.Within()).Data);
        Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, root), await watch.Watch.Within());
    }

    [Fact]
    public async Task Calls_waiting_for_a_connection_fail_with_ConnectionLoss_after_their_timeout()
    {
        await using RelayedClient relayed = await ConnectThroughRelayAsync(configure: o => o.ConnectionWaitTimeout = TimeSpan.FromMilliseconds(300));
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;

        relay.RefuseConnections = true;
        relay.DropConnections();
        await states.WaitForAsync(ConnectionState.Suspended);

        await Assert.ThrowsAsync<ConnectionLossException>(() => client.ExistsAsync("/").Within());
    }

    [Fact]
    public async Task Session_expiry_is_surfaced_ephemerals_are_gone_and_calls_fail_with_SessionExpired()
    {
        await using ZooKeeperClient observer = await fixture.ConnectAsync();
        await using RelayedClient relayed = await ConnectThroughRelayAsync(TimeSpan.FromMilliseconds(800));
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;
        await client.CreateAsync(root + "/eph", default, CreateMode.Ephemeral);
        WatchedResult<NodeData> watch = await client.GetDataAndWatchAsync(root);
        WatchedResult<Stat?> gone = await observer.ExistsAndWatchAsync(root + "/eph");

        // Keep the client away from the server longer than the session timeout: the server expires the session.
        relay.RefuseConnections = true;
        relay.DropConnections();
        Assert.Equal(WatchEventType.NodeDeleted, (await gone.Watch.Within()).Type);
        await states.WaitForAsync(ConnectionState.Lost);
        relay.RefuseConnections = false;

        await states.WaitForAsync(ConnectionState.Expired);
        Assert.Equal(ConnectionState.Expired, client.State);
        await Assert.ThrowsAsync<SessionExpiredException>(() => client.GetDataAsync(root));
        await Assert.ThrowsAsync<SessionExpiredException>(() => watch.Watch);
        Assert.Null(await observer.ExistsAsync(root + "/eph"));
    }

    [Fact]
    public async Task RenewSessionOnExpiry_opens_a_new_session()
    {
        await using ZooKeeperClient observer = await fixture.ConnectAsync();
        await using RelayedClient relayed = await ConnectThroughRelayAsync(TimeSpan.FromMilliseconds(800), o => o.RenewSessionOnExpiry = true);
        (FaultyRelay relay, ZooKeeperClient client, StateRecorder states, string root) = relayed;
        await client.CreateAsync(root + "/eph", default, CreateMode.Ephemeral);
        WatchedResult<Stat?> gone = await observer.ExistsAndWatchAsync(root + "/eph");
        long first = client.SessionId;

        relay.RefuseConnections = true;
        relay.DropConnections();
        Assert.Equal(WatchEventType.NodeDeleted, (await gone.Watch.Within()).Type);
        relay.RefuseConnections = false;

        await Eventually.HoldsAsync(() => states.States.SkipWhile(s => s != ConnectionState.Expired).Contains(ConnectionState.Connected), "a new session");
        Assert.NotEqual(first, client.SessionId);
        // Lost appears only if the client's own timer ran out before the server answered; it carries no information here.
        Assert.Equal(
            [ConnectionState.Suspended, ConnectionState.Expired, ConnectionState.Connected],
            states.States.SkipWhile(s => s == ConnectionState.Connected).Where(s => s != ConnectionState.Lost));
        Assert.NotNull(await client.ExistsAsync(root));
    }
}

internal sealed record RelayedClient(FaultyRelay Relay, ZooKeeperClient Client, StateRecorder States, string Root) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Relay.DisposeAsync();
    }
}
