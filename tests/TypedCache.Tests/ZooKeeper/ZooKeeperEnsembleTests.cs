using TypedCache.Testing;
using TypedCache.ZooKeeper;
using static TypedCache.Tests.ZooKeeper.ZooKeeperTestSupport;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Failover within a session on a real 3-member ensemble.</summary>
public sealed class ZooKeeperEnsembleTests(ThreeMemberZooKeeperFixture fixture) : IClassFixture<ThreeMemberZooKeeperFixture>
{
    [Fact]
    public async Task Killing_the_connected_member_moves_the_session_to_another_member()
    {
        ZooKeeperEnsemble ensemble = fixture.Ensemble;
        await ensemble.WaitForLeaderAsync(Deadline);

        // Relays in front of the members let the test hold the client off the ensemble while it makes a change.
        var relays = new List<FaultyRelay>();
        int killed = -1;
        try
        {
            for (int i = 0; i < ensemble.Count; i++)
            {
                relays.Add(await FaultyRelay.StartAsync("127.0.0.1", ensemble.ClientPort(i)));
            }

            await using ZooKeeperClient client = await fixture.ConnectAsync(
                string.Join(",", relays.Select(r => r.Endpoint)), TimeSpan.FromSeconds(4));
            StateRecorder states = client.RecordStates();
            string root = await CreateRootAsync(client);
            await client.CreateAsync(root + "/eph", default, CreateMode.Ephemeral);
            WatchedResult<NodeData> watch = await client.GetDataAndWatchAsync(root);
            long session = client.SessionId;
            int member = relays.FindIndex(r => r.Endpoint == client.ConnectedEndpoint);
            Assert.True(member >= 0, $"connected to {client.ConnectedEndpoint}");

            foreach (FaultyRelay relay in relays)
            {
                relay.RefuseConnections = true;
            }

            await ensemble.KillAsync(member);
            killed = member;
            await states.WaitForAsync(ConnectionState.Suspended);
            await ensemble.WaitForLeaderAsync(Deadline);
            await using (ZooKeeperClient other = await fixture.ConnectAsync(
                string.Join(",", Enumerable.Range(0, ensemble.Count).Where(i => i != member).Select(ensemble.Endpoint))))
            {
                await other.SetDataAsync(root, "during"u8.ToArray());
            }

            foreach (FaultyRelay relay in relays)
            {
                relay.RefuseConnections = false;
            }

            await states.WaitForAsync(ConnectionState.Reconnected);
            Assert.Equal(session, client.SessionId);
            Assert.NotEqual(relays[member].Endpoint, client.ConnectedEndpoint);
            Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, root), await watch.Watch.Within());
            Assert.Equal(session, (await client.ExistsAsync(root + "/eph"))!.Value.EphemeralOwner);
            Assert.DoesNotContain(ConnectionState.Expired, states.States);
        }
        finally
        {
            if (killed >= 0)
            {
                await ensemble.StartAsync(killed);
            }

            foreach (FaultyRelay relay in relays)
            {
                await relay.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Killing_the_connected_member_without_a_relay_reconnects_within_the_session_timeout()
    {
        ZooKeeperEnsemble ensemble = fixture.Ensemble;
        await ensemble.WaitForLeaderAsync(Deadline);
        await using ZooKeeperClient client = await fixture.ConnectAsync(sessionTimeout: TimeSpan.FromSeconds(4));
        StateRecorder states = client.RecordStates();
        string root = await CreateRootAsync(client);
        await client.CreateAsync(root + "/eph", default, CreateMode.Ephemeral);
        await using PersistentWatch watch = await client.AddWatchAsync(root, AddWatchMode.PersistentRecursive);
        long session = client.SessionId;
        int member = Enumerable.Range(0, ensemble.Count).Single(i => ensemble.Endpoint(i) == client.ConnectedEndpoint);

        await ensemble.KillAsync(member);

        try
        {
            await states.WaitForAsync(ConnectionState.Reconnected);
            Assert.Equal(session, client.SessionId);
            Assert.Equal(session, (await client.ExistsAsync(root + "/eph"))!.Value.EphemeralOwner);

            // The persistent watch was re-armed on the new member.
            await client.SetDataAsync(root + "/eph", "x"u8.ToArray());
            Assert.Equal(new WatchedEvent(WatchEventType.NodeDataChanged, root + "/eph"), await watch.Events.NextAsync());
        }
        finally
        {
            await ensemble.StartAsync(member);
        }
    }
}
