using System.Reflection;

namespace TypedCache.Attributes.Tests;

public sealed class AttributeTests
{
    [Fact]
    public void Cached_defaults_are_documented_values()
    {
        var cached = new CachedAttribute();

        Assert.Equal(300, cached.TtlSeconds);
        Assert.Equal(0, cached.LocalTtlSeconds);
        Assert.Null(cached.Tags);
        Assert.Null(cached.Name);
    }

    [Fact]
    public void CacheKey_order_defaults_to_zero()
    {
        Assert.Equal(0, new CacheKeyAttribute().Order);
    }

    [Theory]
    [InlineData(typeof(CachedAttribute), AttributeTargets.Class | AttributeTargets.Struct)]
    [InlineData(typeof(CacheKeyAttribute), AttributeTargets.Property | AttributeTargets.Field)]
    [InlineData(typeof(CacheIgnoreAttribute), AttributeTargets.Property | AttributeTargets.Field)]
    public void Attributes_apply_to_their_targets_once(Type attribute, AttributeTargets targets)
    {
        var usage = attribute.GetCustomAttribute<AttributeUsageAttribute>()!;

        Assert.Equal(targets, usage.ValidOn);
        Assert.False(usage.AllowMultiple);
        Assert.False(usage.Inherited);
    }

    [Fact]
    public void Positional_record_parameters_carry_key_parts_to_their_properties()
    {
        var id = typeof(SampleStock).GetProperty(nameof(SampleStock.WarehouseId))!;
        var sku = typeof(SampleStock).GetProperty(nameof(SampleStock.Sku))!;

        Assert.Equal(0, id.GetCustomAttribute<CacheKeyAttribute>()!.Order);
        Assert.Equal(1, sku.GetCustomAttribute<CacheKeyAttribute>()!.Order);
        Assert.Equal(new[] { "stock" }, typeof(SampleStock).GetCustomAttribute<CachedAttribute>()!.Tags);
    }

    [Fact]
    public void Every_public_member_has_xml_documentation()
    {
        var assembly = typeof(CachedAttribute).Assembly;
        var xmlPath = Path.ChangeExtension(assembly.Location, ".xml");
        var documented = System.Xml.Linq.XDocument.Load(xmlPath).Descendants("member")
            .Select(m => (string)m.Attribute("name")!).ToHashSet();

        foreach (var type in assembly.GetExportedTypes())
        {
            Assert.Contains("T:" + type.FullName, documented);
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                Assert.Contains($"P:{type.FullName}.{property.Name}", documented);
            }
        }
    }

    [Cached(TtlSeconds = 60, Tags = new[] { "stock" })]
    private sealed record SampleStock([property: CacheKey(Order = 0)] int WarehouseId,
                                      [property: CacheKey(Order = 1)] string Sku, int Quantity);
}
