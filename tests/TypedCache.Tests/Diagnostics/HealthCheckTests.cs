using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using TypedCache.Testing;
using TypedCache.Tests.Caching;
using TypedCache.TestWorker;

namespace TypedCache.Tests.Diagnostics;

/// <summary>The health check of a registered context, on a ZooKeeper member and a memcached server of its own that it stops.</summary>
public sealed class HealthCheckTests
{
    private const string Check = "typedcache-EngineCache";

    [Fact]
    public async Task Healthy_then_degraded_while_ZooKeeper_is_away_then_unhealthy_without_a_live_node()
    {
        await using var ensemble = await ZooKeeperEnsemble.StartAsync(1);
        await using var memcached = await MemcachedServer.StartAsync();
        var logs = new RecordingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(builder => builder.AddProvider(logs))
            .AddTypedCache<EngineCache>(o => o.UseMemcached(memcached.Endpoint).UseZooKeeper(ensemble.ConnectString, "/typedcache/health"));
        services.AddHealthChecks().AddTypedCache<EngineCache>();
        await using var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();
        var cache = provider.GetRequiredService<EngineCache>();
        await cache.Items.GetAsync(1);

        var healthy = await WaitForAsync(health, HealthStatus.Healthy);
        Assert.Equal("connected", healthy.Data["zooKeeper"]);
        Assert.Equal(1, healthy.Data["liveNodes"]);

        await ensemble.StopAsync(0);
        var degraded = await WaitForAsync(health, HealthStatus.Degraded);
        Assert.Contains("ZooKeeper", degraded.Description, StringComparison.Ordinal);
        Assert.NotEqual("connected", degraded.Data["zooKeeper"]);
        Assert.Equal(1, degraded.Data["liveNodes"]);
        await EngineServers.PollAsync(() => Task.FromResult(logs.Has(5401)), "ZooKeeper's loss is logged");

        await ensemble.StartAsync(0);
        await WaitForAsync(health, HealthStatus.Healthy);
        await EngineServers.PollAsync(() => Task.FromResult(logs.Has(5402)), "ZooKeeper's return is logged");

        await memcached.KillAsync();
        var next = 0;
        var unhealthy = await WaitForAsync(health, HealthStatus.Unhealthy, () => cache.Items.GetAsync(next++).AsTask());
        Assert.Equal(0, unhealthy.Data["liveNodes"]);
        await EngineServers.PollAsync(() => Task.FromResult(logs.Has(5300)), "the node's loss is logged");
    }

    [Fact]
    public async Task The_in_process_engine_is_healthy()
    {
        var services = new ServiceCollection().AddLogging().AddTypedCache<EngineCache>(o => o.UseInMemory());
        services.AddHealthChecks().AddTypedCache<EngineCache>(name: "cache", tags: ["ready"]);
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(check => check.Tags.Contains("ready"));

        Assert.Equal(HealthStatus.Healthy, report.Entries["cache"].Status);
    }

    /// <summary>Checks until the context's entry has <paramref name="status"/>, doing <paramref name="between"/> between checks.</summary>
    private static async Task<HealthReportEntry> WaitForAsync(HealthCheckService health, HealthStatus status, Func<Task>? between = null)
    {
        HealthReportEntry entry = default;
        await EngineServers.PollAsync(
            async () =>
            {
                if (between is not null)
                {
                    await between();
                }

                entry = (await health.CheckHealthAsync()).Entries[Check];
                return entry.Status == status;
            },
            $"the health check reports {status}");
        return entry;
    }
}
