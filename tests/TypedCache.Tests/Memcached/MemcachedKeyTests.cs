using System.Text;
using TypedCache.Memcached;

namespace TypedCache.Tests.Memcached;

public class MemcachedKeyTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("user:42")]
    [InlineData("ключ")]
    [InlineData("~!@#$%^&*()_+{}|:\"<>?")]
    public void Printable_and_utf8_keys_are_valid(string key)
    {
        MemcachedKey.ValidateText(Encoding.UTF8.GetBytes(key));
    }

    [Fact]
    public void A_key_of_250_bytes_is_valid_and_251_is_not()
    {
        MemcachedKey.ValidateText(Encoding.ASCII.GetBytes(new string('k', 250)));
        var error = Assert.Throws<ArgumentException>(() => MemcachedKey.ValidateText(Encoding.ASCII.GetBytes(new string('k', 251))));
        Assert.Contains("1 to 250 bytes", error.Message);
    }

    [Fact]
    public void An_empty_key_is_invalid()
    {
        var error = Assert.Throws<ArgumentException>(() => MemcachedKey.ValidateText([]));
        Assert.Contains("empty", error.Message);
    }

    [Theory]
    [InlineData("sp ace", 0x20, 2)]
    [InlineData("tab\tkey", 0x09, 3)]
    [InlineData("new\nline", 0x0A, 3)]
    [InlineData("\u0001ctl", 0x01, 0)]
    [InlineData("del\u007F", 0x7F, 3)]
    [InlineData("nul\0", 0x00, 3)]
    public void Whitespace_and_control_bytes_are_named(string key, int b, int index)
    {
        var error = Assert.Throws<ArgumentException>(() => MemcachedKey.ValidateText(Encoding.UTF8.GetBytes(key)));
        Assert.Contains("whitespace or control bytes", error.Message);
        Assert.Contains($"0x{b:X2} at index {index}", error.Message);
    }

    [Fact]
    public void Binary_keys_fit_250_bytes_once_encoded()
    {
        MemcachedKey.ValidateBinary(new byte[186]);
        var error = Assert.Throws<ArgumentException>(() => MemcachedKey.ValidateBinary(new byte[187]));
        Assert.Contains("base64", error.Message);
        Assert.Throws<ArgumentException>(() => MemcachedKey.ValidateBinary([]));
    }
}
