using System.Globalization;
using Xunit.Abstractions;

namespace TypedCache.Tests.Caching;

/// <summary>Several services on one cache: engine workers in their own processes over the same memcached and ZooKeeper.</summary>
public sealed class CrossProcessTests(EngineServers servers, ITestOutputHelper output) : IClassFixture<EngineServers>
{
    private static long Ticks(string reply, string word)
    {
        var parts = reply.Split(' ');
        Assert.True(parts.Length == 2 && parts[0] == word, $"expected '{word} TICKS', got '{reply}'");
        return long.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    private static async Task<EngineWorker[]> StartAsync(EngineServers servers, string prefix, int count)
    {
        var workers = new List<EngineWorker>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                workers.Add(await EngineWorker.StartAsync(servers, prefix));
            }

            return [.. workers];
        }
        catch
        {
            workers.ForEach(w => w.Dispose());
            throw;
        }
    }

    /// <summary>Caches key 1 in the reader's L1, then the writer invalidates it; the reader polls until its L1 lets go.</summary>
    private async Task<double> PropagationAsync(EngineWorker writer, EngineWorker reader, string invalidation, int id)
    {
        Assert.Equal("value v1 1", await reader.SendAsync($"load {id} v1"));
        Assert.Equal("value v1 1", await reader.SendAsync($"get {id}"));
        await reader.PostAsync($"wait-null {id} 10000");
        var sent = Ticks(await writer.SendAsync(invalidation), "done");
        var seen = Ticks(await reader.ReadLineAsync(), "null");
        return TimeSpan.FromTicks(seen - sent).TotalMilliseconds;
    }

    [Fact]
    public async Task Key_type_and_tag_invalidations_in_one_process_evict_the_local_level_of_another()
    {
        var prefix = EngineServers.NewName();
        var workers = await StartAsync(servers, prefix, 2);
        try
        {
            var keys = new List<double>();
            for (var id = 100; id < 140; id++)
            {
                keys.Add(await PropagationAsync(workers[0], workers[1], $"invalidate {id}", id));
            }

            var type = await PropagationAsync(workers[0], workers[1], "invalidate-all", 2);
            var tag = await PropagationAsync(workers[0], workers[1], "invalidate-tag catalog", 3);
            keys.Sort();
            output.WriteLine($"key invalidation propagation over {keys.Count}: p50 {keys[keys.Count / 2]:0.0} ms, p99 {keys[(int)(keys.Count * 0.99)]:0.0} ms, max {keys[^1]:0.0} ms; type {type:0.0} ms, tag {tag:0.0} ms");
        }
        finally
        {
            Array.ForEach(workers, w => w.Dispose());
        }
    }

    [Fact]
    public async Task Two_hundred_concurrent_misses_over_four_processes_call_the_loader_once()
    {
        var prefix = EngineServers.NewName();
        var workers = await StartAsync(servers, prefix, 4);
        try
        {
            foreach (var worker in workers)
            {
                await worker.PostAsync("stampede 77 50 200");
            }

            var calls = 0;
            foreach (var worker in workers)
            {
                var reply = (await worker.ReadLineAsync()).Split(' ');
                Assert.Equal("calls", reply[0]);
                calls += int.Parse(reply[1], CultureInfo.InvariantCulture);
            }

            Assert.Equal(1, calls);
        }
        finally
        {
            Array.ForEach(workers, w => w.Dispose());
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task A_slow_load_in_one_process_never_writes_its_old_value_after_an_invalidation_in_another()
    {
        var prefix = EngineServers.NewName();
        var workers = await StartAsync(servers, prefix, 2);
        try
        {
            var (loader, invalidator) = (workers[0], workers[1]);
            var random = new Random(82);
            for (var round = 0; round < 30; round++)
            {
                var id = 2000 + round;
                Assert.Equal("loading", await loader.SendAsync($"slow-load {id} old"));

                // Both commands in flight at once, the release shifted before or after the invalidation by a random spin.
                var releaseFirst = random.Next(2) == 0;
                var spin = random.Next(0, 200_000);
                var (first, second) = releaseFirst ? (loader, invalidator) : (invalidator, loader);
                await first.PostAsync(releaseFirst ? $"release {id}" : $"invalidate {id}");
                Thread.SpinWait(spin);
                await second.PostAsync(releaseFirst ? $"invalidate {id}" : $"release {id}");
                var released = await loader.ReadLineAsync();
                var invalidated = await invalidator.ReadLineAsync();
                Assert.Equal("value old 1", released);
                Ticks(invalidated, "done");

                await using var reader = servers.Context(prefix);
                Assert.True(await reader.Items.GetAsync(id) is null, $"round {round} (release first: {releaseFirst}, spin {spin}): the old value was written after the invalidation");
                Assert.Equal("null", await invalidator.SendAsync($"get {id}"));
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }
}
