namespace TypedCache.ZooKeeper.Protocol;

/// <summary>ZooKeeper's request types (<c>ZooDefs.OpCode</c>) and special xids.</summary>
internal static class OpCode
{
    public const int Create = 1;
    public const int Delete = 2;
    public const int Exists = 3;
    public const int GetData = 4;
    public const int SetData = 5;
    public const int GetAcl = 6;
    public const int SetAcl = 7;
    public const int Sync = 9;
    public const int Ping = 11;
    public const int GetChildren2 = 12;
    public const int Check = 13;
    public const int Multi = 14;
    public const int Create2 = 15;
    public const int RemoveWatches = 18;
    public const int CreateContainer = 19;
    public const int CreateTtl = 21;
    public const int Auth = 100;
    public const int SetWatches2 = 105;
    public const int AddWatch = 106;
    public const int CloseSession = -11;
    public const int Error = -1;

    public const int NotificationXid = -1;
    public const int PingXid = -2;
    public const int AuthXid = -4;
    public const int SetWatchesXid = -8;

    /// <summary>The largest request frame the server accepts (jute.maxbuffer's default, 0xFFFFF); a larger one makes it close the connection.</summary>
    public const int MaxRequestBytes = 0xFFFFF;
}

/// <summary>The header of every server frame after the handshake: <c>ReplyHeader { int xid; long zxid; int err; }</c>.</summary>
internal readonly record struct ReplyHeader(int Xid, long Zxid, int Err)
{
    public const int Size = 16;

    public static ReplyHeader Read(ref JuteReader reader) => new(reader.ReadInt(), reader.ReadLong(), reader.ReadInt());
}

/// <summary>
/// The handshake frames, which carry no headers: <c>ConnectRequest</c> (with the trailing readOnly byte every
/// current client sends) and <c>ConnectResponse</c>.
/// </summary>
internal static class Handshake
{
    public const int PasswordLength = 16;

    public static void WriteRequest(FrameBuffer buffer, long lastZxidSeen, int timeoutMs, long sessionId, ReadOnlySpan<byte> password, bool readOnly)
    {
        var writer = new JuteWriter(buffer);
        int start = writer.BeginFrame();
        writer.WriteInt(0);
        writer.WriteLong(lastZxidSeen);
        writer.WriteInt(timeoutMs);
        writer.WriteLong(sessionId);
        writer.WriteBuffer(password);
        writer.WriteBool(readOnly);
        writer.EndFrame(start);
    }

    /// <summary>Parses a ConnectResponse; a 36-byte one (no readOnly byte) is accepted too.</summary>
    public static ConnectResponse ReadResponse(ReadOnlySpan<byte> frame)
    {
        var reader = new JuteReader(frame);
        int protocolVersion = reader.ReadInt();
        int timeout = reader.ReadInt();
        long sessionId = reader.ReadLong();
        byte[] password = reader.ReadBuffer();
        bool readOnly = reader.Remaining > 0 && reader.ReadBool();
        return new ConnectResponse(protocolVersion, timeout, sessionId, password, readOnly);
    }
}

/// <summary>The server's handshake answer; <see cref="TimeoutMs"/> 0 means the session is expired.</summary>
internal sealed record ConnectResponse(int ProtocolVersion, int TimeoutMs, long SessionId, byte[] Password, bool ReadOnly);
