using System.Security.Cryptography;
using System.Text;
using TypedCache.Cluster;

namespace TypedCache.Tests.Cluster;

public sealed class Md5Tests
{
    [Theory]
    [InlineData("", "d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("a", "0cc175b9c0f1b6a831c399e269772661")]
    [InlineData("abc", "900150983cd24fb0d6963f7d28e17f72")]
    [InlineData("message digest", "f96b697d7cb7938d525a2f31aaf161d0")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a")]
    public void Rfc_1321_test_suite(string text, string hex)
    {
        var digest = Md5.Hash(Encoding.ASCII.GetBytes(text));

        Assert.Equal(Convert.FromHexString(hex), ToBytes(digest));
    }

    [Fact]
    public void Matches_the_platform_md5_at_every_length_across_block_boundaries()
    {
        var random = new Random(1321);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);

            Assert.Equal(MD5.HashData(data), ToBytes(Md5.Hash(data)));
        }
    }

    private static byte[] ToBytes(Md5Digest digest)
    {
        byte[] bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), digest.A);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), digest.B);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), digest.C);
        BitConverter.TryWriteBytes(bytes.AsSpan(12), digest.D);
        return bytes;
    }
}
