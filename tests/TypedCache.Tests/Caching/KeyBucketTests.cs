using TypedCache.Caching.Distributed;

namespace TypedCache.Tests.Caching;

/// <summary>An invalidation moves one key bucket; there are enough buckets that it rarely takes another L1 entry along.</summary>
public sealed class KeyBucketTests
{
    [Theory]
    [InlineData(0, 4096)]
    [InlineData(100, 4096)]
    [InlineData(10_000, 65_536)]
    [InlineData(16_384, 65_536)]
    [InlineData(16_385, 131_072)]
    [InlineData(1_000_000, 1 << 20)]
    [InlineData(int.MaxValue, 1 << 20)]
    public void An_L1_gets_four_buckets_per_entry_as_a_power_of_two_within_bounds(int localCapacity, int buckets) =>
        Assert.Equal(buckets, KeyBuckets.For(localCapacity));
}
