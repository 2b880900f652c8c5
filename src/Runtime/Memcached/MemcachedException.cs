namespace TypedCache.Memcached;

/// <summary>Why a memcached command failed.</summary>
public enum MemcachedErrorKind
{
    /// <summary>The connection is down (or went down while the command was in flight); the client reconnects in the background.</summary>
    ConnectionFailed,
    /// <summary>No response within the operation timeout; the connection was closed, since late bytes would be misread.</summary>
    Timeout,
    /// <summary>The server sent bytes that are not a valid response, or a response the command cannot have; the connection was closed.</summary>
    ProtocolError,
    /// <summary><c>CLIENT_ERROR</c>: the server refused the command; the connection stays usable.</summary>
    ClientError,
    /// <summary><c>SERVER_ERROR</c>, for example <c>object too large for cache</c> or out of memory; the connection stays usable.</summary>
    ServerError,
}

/// <summary>A memcached command failed. Names the server, the command and the cause.</summary>
public sealed class MemcachedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="server">The server endpoint, <c>host:port</c>.</param>
    /// <param name="command">The command that failed, such as <c>mg</c> or <c>ms</c>.</param>
    /// <param name="kind">Why it failed.</param>
    /// <param name="detail">What happened, in words.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public MemcachedException(string server, string command, MemcachedErrorKind kind, string detail, Exception? innerException = null)
        : base($"memcached {server}: {command} failed ({kind}): {detail}", innerException)
    {
        Server = server;
        Command = command;
        Kind = kind;
    }

    /// <summary>The server endpoint, <c>host:port</c>.</summary>
    public string Server { get; }

    /// <summary>The command that failed, such as <c>mg</c>, <c>ms</c> or <c>mg batch</c>.</summary>
    public string Command { get; }

    /// <summary>Why it failed.</summary>
    public MemcachedErrorKind Kind { get; }
}
