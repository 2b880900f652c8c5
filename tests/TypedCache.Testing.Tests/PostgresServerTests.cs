using System.Net;
using System.Net.Sockets;

namespace TypedCache.Testing.Tests;

public sealed class PostgresServerTests
{
    [Fact]
    public async Task A_server_answers_on_its_port_as_the_postgres_user_and_is_gone_after_dispose()
    {
        var server = await PostgresServer.StartAsync();
        try
        {
            Assert.Equal("127.0.0.1", server.Host);
            Assert.Contains($"Port={server.Port};", server.ConnectionString("shop"), StringComparison.Ordinal);
            Assert.Contains("Database=shop;", server.ConnectionString("shop"), StringComparison.Ordinal);
            // An SSLRequest: PostgreSQL answers one byte, 'N' when it does not offer TLS (as initdb's default cluster does not).
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            await socket.SendAsync(new byte[] { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f });
            var answer = new byte[1];
            Assert.Equal(1, await socket.ReceiveAsync(answer));
            Assert.Equal((byte)'N', answer[0]);
            if (Environment.UserName == "root")
                Assert.Contains("Uid:\t" + PostgresUserId(), File.ReadAllText($"/proc/{server.ProcessId}/status"), StringComparison.Ordinal);
        }
        finally
        {
            await server.DisposeAsync();
        }

        Assert.True(TextClient.ProcessIsGone(server.ProcessId), $"postgres PID {server.ProcessId} is still there");
        Assert.DoesNotContain(server.ProcessId, ProcessRegistry.LiveProcessIds);
    }

    private static string PostgresUserId() =>
        File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(f => f[0] == "postgres")[2];
}
