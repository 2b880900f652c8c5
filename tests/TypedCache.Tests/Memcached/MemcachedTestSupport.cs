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

    /// <summary>A connected client; without options, with timeouts generous enough for a busy shared machine.</summary>
    public static Task<MemcachedClient> ConnectAsync(MemcachedServer server, MemcachedClientOptions? options = null) =>
        MemcachedClient.ConnectAsync(server.Host, server.Port,
            options ?? new MemcachedClientOptions { OperationTimeout = TimeSpan.FromSeconds(5), ConnectTimeout = TimeSpan.FromSeconds(10) });

    /// <summary>
    /// A client with <see cref="FastFailing"/> settings, once connected: it keeps retrying in the background, so a slow
    /// moment on a busy machine delays the test instead of failing it.
    /// </summary>
    public static async Task<MemcachedClient> ConnectFastFailingAsync(string host, int port)
    {
        var client = new MemcachedClient(host, port, FastFailing);
        await client.WaitUntilConnectedAsync(TimeSpan.FromSeconds(10));
        return client;
    }

    public static string Prefix() => "t" + Guid.NewGuid().ToString("N")[..12] + ":";

    public static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing the test after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Assert.True(await Poll.UntilAsync(_ => condition(), timeout, CancellationToken.None), $"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");

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
