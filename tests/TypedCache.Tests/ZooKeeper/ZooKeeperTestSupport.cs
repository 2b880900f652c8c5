using TypedCache.Testing;
using TypedCache.Tests.Coordination;
using TypedCache.ZooKeeper;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>A real ZooKeeper ensemble shared by the tests of one class.</summary>
public abstract class ZooKeeperFixture(int members) : IAsyncLifetime
{
    private static readonly SemaphoreSlim JavaOptions = new(1);

    public ZooKeeperEnsemble Ensemble { get; private set; } = null!;

    /// <summary>
    /// Starts the ensemble with TTL nodes enabled (<c>zookeeper.extendedTypesEnabled</c>). The ensemble takes no
    /// server properties, so they reach the JVM through JAVA_TOOL_OPTIONS, set only while it starts.
    /// </summary>
    public async Task InitializeAsync()
    {
        await JavaOptions.WaitAsync();
        string? previous = Environment.GetEnvironmentVariable("JAVA_TOOL_OPTIONS");
        try
        {
            Environment.SetEnvironmentVariable("JAVA_TOOL_OPTIONS", "-Dzookeeper.extendedTypesEnabled=true");
            Ensemble = await ZooKeeperEnsemble.StartAsync(members);
        }
        finally
        {
            Environment.SetEnvironmentVariable("JAVA_TOOL_OPTIONS", previous);
            JavaOptions.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (Ensemble is not null)
        {
            await Ensemble.DisposeAsync();
        }
    }

    public Task<ZooKeeperClient> ConnectAsync(string? connectString = null, TimeSpan? sessionTimeout = null, Action<ZooKeeperClientOptions>? configure = null)
    {
        var options = new ZooKeeperClientOptions
        {
            ConnectString = connectString ?? Ensemble.ConnectString,
            SessionTimeout = sessionTimeout ?? TimeSpan.FromSeconds(4),
            ConnectionWaitTimeout = TimeSpan.FromSeconds(15),
        };
        configure?.Invoke(options);
        return ZooKeeperClient.ConnectAsync(options);
    }
}

public sealed class StandaloneZooKeeperFixture() : ZooKeeperFixture(1);

public sealed class ThreeMemberZooKeeperFixture() : ZooKeeperFixture(3);

internal static class ZooKeeperTestSupport
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>A fresh persistent root for one test, so tests sharing a server never see each other's nodes.</summary>
    public static async Task<string> CreateRootAsync(ZooKeeperClient client)
    {
        string root = "/t-" + Guid.NewGuid().ToString("N")[..12];
        await client.CreateAsync(root, default);
        return root;
    }

    /// <summary>Records every state a client raises, for tests that wait for one.</summary>
    public static StateRecorder RecordStates(this ZooKeeperClient client) => new(client);

    public static Task<T> Within<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Deadline);

    public static async Task<T> NextAsync<T>(this System.Threading.Channels.ChannelReader<T> reader) =>
        await reader.ReadAsync().AsTask().WaitAsync(Deadline);
}

internal sealed class StateRecorder
{
    private readonly List<ConnectionState> _states = [];

    public StateRecorder(ZooKeeperClient client) => client.StateChanged += (_, state) =>
    {
        lock (_states)
        {
            _states.Add(state);
        }
    };

    public IReadOnlyList<ConnectionState> States
    {
        get
        {
            lock (_states)
            {
                return [.. _states];
            }
        }
    }

    public Task WaitForAsync(ConnectionState state) =>
        Eventually.HoldsAsync(() => States.Contains(state), $"state {state} (seen: {string.Join(", ", States)})");
}
