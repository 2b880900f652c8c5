using System.Text;
using TypedCache.Memcached;

namespace TypedCache.Tests.Memcached;

public class MetaRequestWriterTests
{
    private static string Written(Action<PooledBufferWriter> write)
    {
        using var writer = new PooledBufferWriter(16);
        write(writer);
        return Encoding.Latin1.GetString(writer.WrittenSpan);
    }

    private static readonly byte[] Key = "user:42"u8.ToArray();

    [Fact]
    public void A_default_get_asks_for_value_flags_cas_and_ttl()
    {
        Assert.Equal("mg user:42 v f c t\r\n", Written(w => MetaRequestWriter.WriteGet(w, Key, default)));
    }

    [Fact]
    public void Get_puts_modifier_flags_before_reporting_flags()
    {
        var options = new MemcachedGetOptions
        {
            VivifyOnMissTtl = 30, RecacheBelowTtl = 200, TouchTtl = 77, ReturnSize = true, ReturnKey = true, NoLruBump = true,
        };
        Assert.Equal("mg user:42 N30 R200 T77 v f c t s k u\r\n", Written(w => MetaRequestWriter.WriteGet(w, Key, options)));
        Assert.Equal("mg user:42 f c t O7 q\r\n", Written(w => MetaRequestWriter.WriteGet(w, Key, new MemcachedGetOptions { MetadataOnly = true }, opaque: 7, quiet: true)));
    }

    [Fact]
    public void A_binary_key_is_base64_with_the_b_flag()
    {
        byte[] key = [0x00, 0xFF, (byte)'b', (byte)'i', (byte)'n', (byte)'a', (byte)'r', (byte)'y', (byte)' ', (byte)'k', (byte)'e', (byte)'y', (byte)'\r', (byte)'\n'];
        Assert.Equal("mg AP9iaW5hcnkga2V5DQo= b v f c t\r\n", Written(w => MetaRequestWriter.WriteGet(w, key, new MemcachedGetOptions { BinaryKey = true })));
        Assert.Equal("ms AP9iaW5hcnkga2V5DQo= 3 b\r\nbin\r\n", Written(w => MetaRequestWriter.WriteSet(w, key, "bin"u8, new MemcachedStoreOptions { BinaryKey = true })));
        Assert.Equal("md AP9iaW5hcnkga2V5DQo= b\r\n", Written(w => MetaRequestWriter.WriteDelete(w, key, new MemcachedDeleteOptions { BinaryKey = true })));
        Assert.Equal("ma AP9iaW5hcnkga2V5DQo= b D1 v c\r\n", Written(w => MetaRequestWriter.WriteArithmetic(w, key, true, 1, new MemcachedArithmeticOptions { BinaryKey = true })));
    }

    [Fact]
    public void Set_writes_the_line_then_the_data_block()
    {
        Assert.Equal("ms user:42 5\r\nhello\r\n", Written(w => MetaRequestWriter.WriteSet(w, Key, "hello"u8, default)));
        var options = new MemcachedStoreOptions { Mode = MemcachedStoreMode.Add, CompareCas = 81, Invalidate = true, Ttl = 300, ClientFlags = 123, ReturnCas = true };
        Assert.Equal("ms user:42 0 ME C81 I T300 F123 c O9 q\r\n\r\n", Written(w => MetaRequestWriter.WriteSet(w, Key, [], options, opaque: 9, quiet: true)));
        Assert.Equal("ms user:42 1 MR\r\nx\r\n", Written(w => MetaRequestWriter.WriteSet(w, Key, "x"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Replace })));
        Assert.Equal("ms user:42 1 MA\r\nx\r\n", Written(w => MetaRequestWriter.WriteSet(w, Key, "x"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Append })));
        Assert.Equal("ms user:42 1 MP\r\nx\r\n", Written(w => MetaRequestWriter.WriteSet(w, Key, "x"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Prepend })));
    }

    [Fact]
    public void A_large_value_grows_the_buffer()
    {
        var value = new byte[100_000];
        Random.Shared.NextBytes(value);
        using var writer = new PooledBufferWriter(16);
        MetaRequestWriter.WriteSet(writer, Key, value, default);
        var header = "ms user:42 100000\r\n"u8;
        Assert.True(writer.WrittenSpan.StartsWith(header));
        Assert.True(writer.WrittenSpan[header.Length..^2].SequenceEqual(value));
        Assert.True(writer.WrittenSpan.EndsWith("\r\n"u8));
    }

    [Fact]
    public void Delete_and_invalidate()
    {
        Assert.Equal("md user:42\r\n", Written(w => MetaRequestWriter.WriteDelete(w, Key, default)));
        Assert.Equal("md user:42 C5 I T30 O1 q\r\n", Written(w => MetaRequestWriter.WriteDelete(w, Key, new MemcachedDeleteOptions { CompareCas = 5, Invalidate = true, Ttl = 30 }, opaque: 1, quiet: true)));
    }

    [Fact]
    public void Arithmetic_with_auto_create()
    {
        Assert.Equal("ma user:42 D1 v c\r\n", Written(w => MetaRequestWriter.WriteArithmetic(w, Key, true, 1, default)));
        var options = new MemcachedArithmeticOptions { AutoCreateTtl = 0, InitialValue = 10, Ttl = 60, CompareCas = 3 };
        Assert.Equal("ma user:42 N0 J10 D5 MD T60 C3 v c\r\n", Written(w => MetaRequestWriter.WriteArithmetic(w, Key, false, 5, options)));
    }

    [Fact]
    public void Fence_and_classic_lines()
    {
        Assert.Equal("mn\r\n", Written(MetaRequestWriter.WriteNoOp));
        Assert.Equal("stats settings\r\n", Written(w => MetaRequestWriter.WriteLine(w, "stats settings"u8)));
    }
}
