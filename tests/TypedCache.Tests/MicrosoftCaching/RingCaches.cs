using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using TypedCache.Caching.MicrosoftCaching;
using TypedCache.Memcached;
using TypedCache.Tests.Caching;

namespace TypedCache.Tests.MicrosoftCaching;

/// <summary>Builds the caches of Microsoft's abstractions on the shared servers, through their one-call registrations.</summary>
internal static class RingCaches
{
    /// <summary>A container holding a distributed cache on the servers' memcached and ZooKeeper, with its own key prefix.</summary>
    public static ServiceProvider Distributed(EngineServers servers, string prefix, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddTypedCacheDistributedCache(o =>
        {
            o.UseMemcached(servers.Memcached.Endpoint).UseZooKeeper(servers.ZooKeeper.ConnectString, "/typedcache/" + prefix).UseKeyPrefix(prefix);
            if (time is not null)
            {
                o.UseTimeProvider(time);
            }
        });
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// A container holding a hybrid cache on the servers' memcached and ZooKeeper. Two containers with the same
    /// prefix are two processes' caches: separate in-process levels over the same memcached and ZooKeeper root.
    /// </summary>
    public static ServiceProvider Hybrid(EngineServers servers, string prefix, TimeProvider? time = null,
        Action<RingCacheOptionsBuilder>? configure = null, Action<IServiceCollection>? register = null)
    {
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        register?.Invoke(services);
        services.AddTypedCacheHybridCache(o =>
        {
            o.UseMemcached(servers.Memcached.Endpoint).UseZooKeeper(servers.ZooKeeper.ConnectString, "/typedcache/" + prefix).UseKeyPrefix(prefix);
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }

    /// <summary>Whether memcached holds the item, read without touching it.</summary>
    public static async Task<bool> PeekAsync(EngineServers servers, string memcachedKey)
    {
        await using var client = await ClientAsync(servers);
        using var result = await client.GetAsync(memcachedKey, new MemcachedGetOptions { MetadataOnly = true, NoLruBump = true });
        return result.Found;
    }

    /// <summary>A connected memcached client of the shared server.</summary>
    public static async Task<MemcachedClient> ClientAsync(EngineServers servers)
    {
        var client = new MemcachedClient(servers.Memcached.Host, servers.Memcached.Port);
        await client.WaitUntilConnectedAsync(TimeSpan.FromSeconds(10));
        return client;
    }

    /// <summary>
    /// <paramref name="bytes"/> as a sequence of several segments, as a pipe hands them out; the pipe's reader is
    /// never advanced, so the segments stay valid.
    /// </summary>
    public static async Task<ReadOnlySequence<byte>> SegmentedAsync(byte[] bytes)
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 1024));
        for (var offset = 0; offset < bytes.Length; offset += 1000)
        {
            await pipe.Writer.WriteAsync(bytes.AsMemory(offset, Math.Min(1000, bytes.Length - offset)));
        }

        await pipe.Writer.CompleteAsync();
        var read = await pipe.Reader.ReadAsync();
        Assert.False(read.Buffer.IsSingleSegment, "the pipe handed out one segment");
        return read.Buffer;
    }

    public static MemcachedDistributedCache Cache(this ServiceProvider provider) => provider.GetRequiredService<MemcachedDistributedCache>();
}
