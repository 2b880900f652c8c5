using System.Buffers;
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

    /// <summary>A sequence of <paramref name="bytes"/> cut into segments of <paramref name="segmentLength"/> bytes.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentLength)
    {
        var first = new Segment(bytes.AsMemory(0, Math.Min(segmentLength, bytes.Length)), 0);
        var last = first;
        for (var offset = segmentLength; offset < bytes.Length; offset += segmentLength)
        {
            last = last.Append(bytes.AsMemory(offset, Math.Min(segmentLength, bytes.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static MemcachedDistributedCache Cache(this ServiceProvider provider) => provider.GetRequiredService<MemcachedDistributedCache>();

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
