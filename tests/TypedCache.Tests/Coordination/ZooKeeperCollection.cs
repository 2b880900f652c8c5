using TypedCache.Coordination;
using TypedCache.Testing;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.Coordination;

/// <summary>One standalone ZooKeeper shared by every coordination test class; each test works under its own root.</summary>
public sealed class ZooKeeperFixture : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];

    public ZooKeeperEnsemble Ensemble { get; private set; } = null!;

    public async Task InitializeAsync() => Ensemble = await ZooKeeperEnsemble.StartAsync(1);

    public async Task DisposeAsync()
    {
        foreach (IAsyncDisposable owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        await Ensemble.DisposeAsync();
    }

    /// <summary>A fresh root path for one test.</summary>
    public static string NewRoot() => "/typedcache-test/" + Guid.NewGuid().ToString("N");

    /// <summary>A connected client, closed when the fixture is disposed (tests may dispose it earlier).</summary>
    public async Task<ZooKeeperClient> ConnectAsync(string? connectString = null, TimeSpan? sessionTimeout = null, bool renew = false)
    {
        var client = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions
        {
            ConnectString = connectString ?? Ensemble.ConnectString,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(4),
            ConnectionWaitTimeout = TimeSpan.FromSeconds(5),
            RenewSessionOnExpiry = renew,
        });
        _owned.Add(client);
        return client;
    }

    /// <summary>A connected client with the root opened on it.</summary>
    internal async Task<CoordinationRoot> OpenAsync(string root, DigestCredential? credential = null, string? connectString = null, TimeSpan? sessionTimeout = null, bool renew = false) =>
        await CoordinationRoot.OpenAsync(await ConnectAsync(connectString, sessionTimeout, renew), root, credential);

    /// <summary>Two clients with a fresh root opened: one through a new relay (for faults), one direct.</summary>
    internal async Task<(FaultyRelay Relay, CoordinationRoot Relayed, CoordinationRoot Direct)> OpenRelayedAndDirectAsync()
    {
        string root = NewRoot();
        FaultyRelay relay = await RelayAsync();
        CoordinationRoot relayed = await OpenAsync(root, connectString: relay.Endpoint);
        return (relay, relayed, await OpenAsync(root));
    }

    /// <summary>A relay in front of the ensemble, disposed with the fixture.</summary>
    public async Task<FaultyRelay> RelayAsync()
    {
        var relay = await FaultyRelay.StartAsync("127.0.0.1", Ensemble.ClientPort(0));
        _owned.Add(relay);
        return relay;
    }
}

[CollectionDefinition(Name)]
public sealed class ZooKeeperCollection : ICollectionFixture<ZooKeeperFixture>
{
    public const string Name = "Coordination on ZooKeeper";
}

/// <summary>Polling with a deadline: the tests' only way to wait for something.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static Task HoldsAsync(Func<bool> condition, string what) => HoldsAsync(_ => Task.FromResult(condition()), what);

    public static async Task HoldsAsync(Func<CancellationToken, Task<bool>> condition, string what) =>
        Assert.True(await Poll.UntilAsync(condition, Deadline, CancellationToken.None), $"{what} did not happen within {Deadline.TotalSeconds} s");
}
