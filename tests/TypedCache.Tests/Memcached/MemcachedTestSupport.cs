using System.Diagnostics;
using System.Text;
using TypedCache.Memcached;
using TypedCache.Testing;

namespace TypedCache.Tests.Memcached;

/// <summary>One real memcached for a test class; tests keep apart by key prefix.</summary>
public sealed class MemcachedServerFixture : IAsyncLifetime
{
    public MemcachedServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MemcachedServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

internal static class MemcachedTestSupport
{
    /// <summary>Short timeouts and reconnect delays, so that fault tests finish quickly.</summary>
    public static readonly MemcachedClientOptions FastFailing = new()
    {
        OperationTimeout = TimeSpan.FromMilliseconds(300),
        ConnectTimeout = TimeSpan.FromMilliseconds(500),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(10),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    public static Task<MemcachedClient> ConnectAsync(MemcachedServer server, MemcachedClientOptions? options = null) =>
        MemcachedClient.ConnectAsync(server.Host, server.Port, options);

    public static string Prefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing the test after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var started = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromMilliseconds(5);
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > timeout)
                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(interval);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, TimeSpan.FromMilliseconds(100).Ticks));
        }
    }

    /// <summary>Polls until a get succeeds on <paramref name="client"/> (the connection is back and answering).</summary>
    public static Task UntilAnsweringAsync(MemcachedClient client, TimeSpan timeout) => UntilAsync(async () =>
    {
        try
        {
            using var _ = await client.GetAsync("probe");
            return true;
        }
        catch (MemcachedException)
        {
            return false;
        }
    }, timeout, "the client to answer again");
}
