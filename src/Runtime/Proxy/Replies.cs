namespace TypedCache.Proxy;

/// <summary>The replies the proxy writes itself, byte for byte as memcached 1.6 writes them.</summary>
internal static class Replies
{
    public static readonly ReadOnlyMemory<byte> Error = "ERROR\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> BadFormat = "CLIENT_ERROR bad command line format\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> BadDataChunk = "CLIENT_ERROR bad data chunk\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> TooLarge = "SERVER_ERROR object too large for cache\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> InvalidDelta = "CLIENT_ERROR invalid numeric delta argument\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> InvalidExptime = "CLIENT_ERROR invalid exptime argument\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> DeleteUsage = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> DuplicateFlag = "CLIENT_ERROR duplicate flag\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> DecodingKey = "CLIENT_ERROR error decoding key\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> TooManyConnections = "ERROR Too many open connections\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> End = "END\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Ok = "OK\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Reset = "RESET\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> NotStored = "NOT_STORED\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> NotFound = "NOT_FOUND\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> Version = "VERSION 1.6.18-typedcache-proxy\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaNoOp = "MN\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaMiss = "EN\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaNotStored = "NS\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaNotFound = "NF\r\n"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaMissCode = "EN"u8.ToArray();
    public static readonly ReadOnlyMemory<byte> MetaStoredCode = "HD"u8.ToArray();
}
