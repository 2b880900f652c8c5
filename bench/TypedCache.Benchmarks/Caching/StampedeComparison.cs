using TypedCache.Testing;
using ZiggyCreatures.Caching.Fusion;

namespace TypedCache.Benchmarks.Caching;

/// <summary>
/// <c>engine-stampede [--services N] [--callers M]</c>: M concurrent misses for one key spread over N services (N cache
/// instances in this process, each with its own in-process level), counting loader calls. TypedCache's services share
/// one real memcached (leases make one load cluster-wide); FusionCache's have no distributed locker, so each
/// instance's own single-flight is all that protects the loader.
/// </summary>
internal static class StampedeComparison
{
    public static async Task<int> RunAsync(string[] args)
    {
        var services = Option(args, "--services", 4);
        var callers = Option(args, "--callers", 200);
        await using var server = await MemcachedServer.StartAsync();
        var typed = Enumerable.Range(0, services)
            .Select(_ => new BenchCache(new CacheContextOptionsBuilder<BenchCache>().UseMemcached(server.Endpoint).Options))
            .ToArray();
        var fusion = Enumerable.Range(0, services).Select(_ => new FusionCache(new FusionCacheOptions())).ToArray();
        try
        {
            foreach (var cache in typed)
            {
                await cache.Products.GetAsync(0); // connected
            }

            var typedCalls = 0;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
                await typed[i % services].Products.GetOrLoadAsync(7, async (id, ct) =>
                {
                    Interlocked.Increment(ref typedCalls);
                    await Task.Delay(50, ct);
                    return new Product(id, "tea", 1m);
                }))));
            var fusionCalls = 0;
            await Task.WhenAll(Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
                await fusion[i % services].GetOrSetAsync<Product>("product:7", async (_, ct) =>
                {
                    Interlocked.Increment(ref fusionCalls);
                    await Task.Delay(50, ct);
                    return new Product(7, "tea", 1m);
                }))));
            Console.WriteLine($"{callers} concurrent misses over {services} services: TypedCache loader calls {typedCalls}, FusionCache (no distributed locker) loader calls {fusionCalls}");
            return 0;
        }
        finally
        {
            foreach (var cache in typed)
            {
                await cache.DisposeAsync();
            }

            foreach (var cache in fusion)
            {
                cache.Dispose();
            }
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
