using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace TypedCache.Cluster;

/// <summary>
/// MD5 (RFC 1321) for ring placement, where the digest is read as four little-endian words: the key hash is
/// word 0 and a point name gives four points. Managed, because the platform's one-shot MD5 goes through
/// OpenSSL at about 0.5 µs a call, several times this for the short keys memcached allows (see
/// bench/README.md, "Ring"). Not for security: placement is all it is used for.
/// </summary>
internal static class Md5
{
    private static ReadOnlySpan<uint> K =>
    [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ];

    /// <summary>The digest of <paramref name="data"/> as its four little-endian words.</summary>
    public static Md5Digest Hash(ReadOnlySpan<byte> data)
    {
        var state = new Md5Digest(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
        int whole = data.Length & ~63;
        for (int offset = 0; offset < whole; offset += 64)
            Compress(ref state, data.Slice(offset, 64));

        // The tail, the 0x80 marker and the bit length fill one final block, or two when fewer than 9 bytes remain.
        Span<byte> last = stackalloc byte[128];
        last.Clear();
        var tail = data[whole..];
        tail.CopyTo(last);
        last[tail.Length] = 0x80;
        int blocks = tail.Length < 56 ? 1 : 2;
        BinaryPrimitives.WriteUInt64LittleEndian(last[(blocks * 64 - 8)..], (ulong)data.Length * 8);
        for (int block = 0; block < blocks; block++)
            Compress(ref state, last.Slice(block * 64, 64));
        return state;
    }

    private static void Compress(ref Md5Digest state, ReadOnlySpan<byte> block)
    {
        Span<uint> m = stackalloc uint[16];
        for (int i = 0; i < 16; i++)
            m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(4 * i)..]);

        // Four steps per iteration rotate the roles of a, b, c and d back to where they started, so the state
        // stays in locals (registers) instead of being shuffled through memory.
        var k = K;
        uint a = state.A, b = state.B, c = state.C, d = state.D;
        for (int i = 0; i < 16; i += 4)
        {
            a = b + BitOperations.RotateLeft(a + F(b, c, d) + k[i] + m[i], 7);
            d = a + BitOperations.RotateLeft(d + F(a, b, c) + k[i + 1] + m[i + 1], 12);
            c = d + BitOperations.RotateLeft(c + F(d, a, b) + k[i + 2] + m[i + 2], 17);
            b = c + BitOperations.RotateLeft(b + F(c, d, a) + k[i + 3] + m[i + 3], 22);
        }

        for (int i = 16; i < 32; i += 4)
        {
            a = b + BitOperations.RotateLeft(a + G(b, c, d) + k[i] + m[((5 * i) + 1) & 15], 5);
            d = a + BitOperations.RotateLeft(d + G(a, b, c) + k[i + 1] + m[((5 * i) + 6) & 15], 9);
            c = d + BitOperations.RotateLeft(c + G(d, a, b) + k[i + 2] + m[((5 * i) + 11) & 15], 14);
            b = c + BitOperations.RotateLeft(b + G(c, d, a) + k[i + 3] + m[(5 * i) & 15], 20);
        }

        for (int i = 32; i < 48; i += 4)
        {
            a = b + BitOperations.RotateLeft(a + (b ^ c ^ d) + k[i] + m[((3 * i) + 5) & 15], 4);
            d = a + BitOperations.RotateLeft(d + (a ^ b ^ c) + k[i + 1] + m[((3 * i) + 8) & 15], 11);
            c = d + BitOperations.RotateLeft(c + (d ^ a ^ b) + k[i + 2] + m[((3 * i) + 11) & 15], 16);
            b = c + BitOperations.RotateLeft(b + (c ^ d ^ a) + k[i + 3] + m[((3 * i) + 14) & 15], 23);
        }

        for (int i = 48; i < 64; i += 4)
        {
            a = b + BitOperations.RotateLeft(a + I(b, c, d) + k[i] + m[(7 * i) & 15], 6);
            d = a + BitOperations.RotateLeft(d + I(a, b, c) + k[i + 1] + m[((7 * i) + 7) & 15], 10);
            c = d + BitOperations.RotateLeft(c + I(d, a, b) + k[i + 2] + m[((7 * i) + 14) & 15], 15);
            b = c + BitOperations.RotateLeft(b + I(c, d, a) + k[i + 3] + m[((7 * i) + 21) & 15], 21);
        }

        state = new Md5Digest(state.A + a, state.B + b, state.C + c, state.D + d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint F(uint x, uint y, uint z) => (x & y) | (~x & z);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint G(uint x, uint y, uint z) => (z & x) | (~z & y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint I(uint x, uint y, uint z) => y ^ (x | ~z);
}

/// <summary>An MD5 digest as its four little-endian 32-bit words, in digest order.</summary>
internal readonly record struct Md5Digest(uint A, uint B, uint C, uint D);
