using System.Text;
using TypedCache.Memcached;
using static TypedCache.Tests.Memcached.MemcachedTestSupport;

namespace TypedCache.Tests.Memcached;

public class MemcachedConcurrencyTests(MemcachedServerFixture fixture) : IClassFixture<MemcachedServerFixture>
{
    private const int Tasks = 64;
    private const int OpsPerTask = 10_000;
    private const int KeysPerTask = 32;

    /// <summary>The value stored under a key is derived from the key, so a response given to the wrong request shows.</summary>
    private static byte[] ValueOf(string key) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("v:" + key, 1 + key.Length % 7)));

    [Fact]
    public async Task Sixty_four_tasks_share_one_connection_and_every_response_belongs_to_its_request()
    {
        await using var client = await ConnectAsync(fixture.Server, new MemcachedClientOptions { OperationTimeout = TimeSpan.FromSeconds(10) });
        var prefix = Prefix();
        var workers = Enumerable.Range(0, Tasks).Select(t => Task.Run(() => Worker(client, prefix + t + ":")));
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(client.IsConnected);
    }

    private static async Task Worker(MemcachedClient client, string prefix)
    {
        var keys = Enumerable.Range(0, KeysPerTask).Select(k => prefix + k).ToArray();
        var values = keys.Select(ValueOf).ToArray();
        var present = new bool[KeysPerTask];
        var random = new Random(prefix.GetHashCode(StringComparison.Ordinal));
        var batchKeys = new string[4];
        for (int i = 0; i < OpsPerTask; i++)
        {
            int k = random.Next(KeysPerTask);
            switch (random.Next(10))
            {
                case < 3:
                    var stored = await client.SetAsync(keys[k], values[k], new MemcachedStoreOptions { ClientFlags = (uint)k });
                    Assert.Equal(MemcachedStatus.Success, stored.Status);
                    present[k] = true;
                    break;
                case < 8:
                    using (var hit = await client.GetAsync(keys[k]))
                    {
                        Assert.Equal(present[k], hit.Found);
                        if (present[k])
                        {
                            Assert.True(hit.Value.Span.SequenceEqual(values[k]), $"{keys[k]} got another key's value: {Text(hit.Value)}");
                            Assert.Equal((uint)k, hit.ClientFlags);
                        }
                    }
                    break;
                case 8:
                    var deleted = await client.DeleteAsync(keys[k]);
                    Assert.Equal(present[k] ? MemcachedStatus.Success : MemcachedStatus.NotFound, deleted);
                    present[k] = false;
                    break;
                default:
                    var indexes = new int[batchKeys.Length];
                    for (int j = 0; j < batchKeys.Length; j++)
                        batchKeys[j] = keys[indexes[j] = random.Next(KeysPerTask)];
                    using (var batch = await client.GetManyAsync(batchKeys))
                    {
                        for (int j = 0; j < batchKeys.Length; j++)
                        {
                            Assert.Equal(present[indexes[j]], batch[j].Found);
                            if (batch[j].Found)
                                Assert.True(batch[j].Value.Span.SequenceEqual(values[indexes[j]]), $"{batchKeys[j]} got another key's value in a batch");
                        }
                    }
                    break;
            }
        }
    }
}

public class MemcachedReaderHandoffTests(MemcachedServerFixture fixture) : IClassFixture<MemcachedServerFixture>
{
    [Fact]
    public async Task A_caller_that_blocks_on_another_request_inside_its_continuation_does_not_stall_the_read_loop()
    {
        await using var client = await ConnectAsync(fixture.Server);
        var prefix = Prefix();
        await client.SetAsync(prefix + "a", "A"u8);
        await client.SetAsync(prefix + "b", "B"u8);
        var run = Task.Run(async () =>
        {
            for (int i = 0; i < 200; i++)
            {
                using var a = await client.GetAsync(prefix + "a");
#pragma warning disable xUnit1031 // blocking inside a continuation is the point of this test
                using var b = client.GetAsync(prefix + "b").AsTask().Result;
#pragma warning restore xUnit1031
                Assert.Equal("A", Text(a.Value));
                Assert.Equal("B", Text(b.Value));
            }
        });
        await run.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
