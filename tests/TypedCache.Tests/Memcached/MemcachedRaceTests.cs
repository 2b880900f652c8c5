using TypedCache.Memcached;
using static TypedCache.Tests.Memcached.MemcachedTestSupport;

namespace TypedCache.Tests.Memcached;

/// <summary>
/// Races between the read loop and other threads (callers cancelling, a client disposed mid-batch), run many times on a
/// real server. A lost race shows as a wrong value, an exception other than the expected ones, or a crashed reader thread.
/// </summary>
public class MemcachedRaceTests(MemcachedServerFixture fixture) : IClassFixture<MemcachedServerFixture>
{
    [Fact]
    public async Task Callers_cancelling_while_their_responses_arrive_never_see_another_callers_result()
    {
        await using var client = await ConnectAsync(fixture.Server);
        var prefix = Prefix();
        const int Keys = 16;
        for (int k = 0; k < Keys; k++)
            await client.SetAsync(prefix + k, Bytes("value" + k));

        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            int cancelled = 0;
            for (int i = 0; i < 2_000; i++)
            {
                int k = (w + i) % Keys;
                using var cancel = new CancellationTokenSource();
                var call = client.GetAsync(prefix + k, default, cancel.Token);
                // Cancel while the request is in flight, at varying points: its response may be parsed at the same moment.
                if (i % 3 != 0)
                    cancel.Cancel();
                try
                {
                    using var hit = await call;
                    Assert.Equal("value" + k, Text(hit.Value));
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
            }
            return cancelled;
        }));
        var cancelledCounts = await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(client.IsConnected);
        Assert.True(cancelledCounts.Sum() > 0, "no call was cancelled in flight, so the race was never run");
        // The connection still pairs every response with its request after all those cancellations.
        for (int k = 0; k < Keys; k++)
        {
            using var hit = await client.GetAsync(prefix + k);
            Assert.Equal("value" + k, Text(hit.Value));
        }
    }

    [Fact]
    public async Task Disposing_clients_while_batches_stream_in_never_corrupts_another_clients_batches()
    {
        var prefix = Prefix();
        var keys = Enumerable.Range(0, 200).Select(k => prefix + k).ToArray();
        await using (var writer = await ConnectAsync(fixture.Server))
        {
            foreach (var key in keys)
                await writer.SetAsync(key, Bytes("v:" + key + new string('x', 200)));
        }

        await using var steady = await ConnectAsync(fixture.Server);
        using var stop = new CancellationTokenSource();
        var checker = Task.Run(async () =>
        {
            int batches = 0;
            while (!stop.IsCancellationRequested)
            {
                using var batch = await steady.GetManyAsync(keys);
                for (int j = 0; j < keys.Length; j++)
                    Assert.Equal("v:" + keys[j] + new string('x', 200), Text(batch[j].Value));
                batches++;
            }
            return batches;
        });

        for (int round = 0; round < 40; round++)
        {
            var client = await ConnectAsync(fixture.Server);
            var calls = Enumerable.Range(0, 4).Select(_ => client.GetManyAsync(keys).AsTask()).ToList();
            // Fault the connection from this thread while the read loop is consuming the batches' responses.
            await client.DisposeAsync();
            foreach (var call in calls)
            {
                try
                {
                    using var batch = await call.WaitAsync(TimeSpan.FromSeconds(10));
                    for (int j = 0; j < keys.Length; j++)
                        Assert.Equal("v:" + keys[j] + new string('x', 200), Text(batch[j].Value));
                }
                catch (MemcachedException error)
                {
                    Assert.Equal(MemcachedErrorKind.ConnectionFailed, error.Kind);
                }
            }
        }
        await stop.CancelAsync();
        Assert.True(await checker.WaitAsync(TimeSpan.FromSeconds(30)) > 0);
    }
}
