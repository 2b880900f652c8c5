using System.Buffers.Text;
using MessagePack;
using MessagePack.Formatters;
using Microsoft.Extensions.Time.Testing;
using TypedCache.Caching;
using TypedCache.Caching.InMemory;

namespace TypedCache.Tests.Caching.InMemory;

/// <summary>
/// Entries written once and never read again are dropped by the sweep on the engine's clock, and a type never holds
/// more entries than its bound.
/// </summary>
public sealed class InMemoryCacheEngineSweepTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);

    private static readonly CacheTypeDescriptor<Item, ItemKey> ItemType = new(
        "item", 1, Ttl, TimeSpan.FromMinutes(1), ["stock"], new ItemFormatter(), static item => new ItemKey(item.Id));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Expired_entries_that_are_never_read_are_swept()
    {
        await using var engine = new InMemoryCacheEngine(_time);
        for (var id = 0; id < 100; id++)
        {
            await engine.SetAsync(ItemType, new Item(id), CancellationToken.None);
        }

        _time.Advance(Ttl / 2);
        await engine.SetAsync(ItemType, new Item(1_000), CancellationToken.None);
        Assert.Equal(101, engine.EntryCount);

        // Past the first hundred's TTL, one sweep interval later: they are gone, the later one is kept.
        _time.Advance(Ttl / 2 + InMemoryCacheEngine.DefaultSweepInterval);
        Assert.Equal(1, engine.EntryCount);
        Assert.NotNull(await engine.GetOrLoadAsync<Item, ItemKey, int>(ItemType, new ItemKey(1_000), 0, null, CancellationToken.None));
    }

    [Fact]
    public async Task Entries_of_an_invalidated_tag_are_swept()
    {
        await using var engine = new InMemoryCacheEngine(_time, InMemoryCacheEngine.DefaultMaxEntries, TimeSpan.FromSeconds(5));
        await engine.SetAsync(ItemType, new Item(1), CancellationToken.None);
        await engine.InvalidateTagAsync("stock", CancellationToken.None);
        Assert.Equal(1, engine.EntryCount);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, engine.EntryCount);
    }

    [Fact]
    public async Task A_type_holds_at_most_its_bound_and_keeps_the_recent_entries()
    {
        await using var engine = new InMemoryCacheEngine(_time, maxEntries: 50);
        for (var id = 0; id < 1_000; id++)
        {
            await engine.SetAsync(ItemType, new Item(id), CancellationToken.None);
        }

        Assert.InRange(engine.EntryCount, 1, 50);
        Assert.NotNull(await engine.GetOrLoadAsync<Item, ItemKey, int>(ItemType, new ItemKey(999), 0, null, CancellationToken.None));
        Assert.Null(await engine.GetOrLoadAsync<Item, ItemKey, int>(ItemType, new ItemKey(0), 0, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_bound_of_zero_keeps_nothing_and_every_read_loads()
    {
        await using var engine = new InMemoryCacheEngine(_time, maxEntries: 0);
        await engine.SetAsync(ItemType, new Item(1), CancellationToken.None);
        var calls = 0;
        ValueTask<Item?> Load(ItemKey key, int _, CancellationToken __)
        {
            Interlocked.Increment(ref calls);
            return ValueTask.FromResult<Item?>(new Item(key.Id));
        }

        Assert.Equal(0, engine.EntryCount);
        Assert.Equal(new Item(1), await engine.GetOrLoadAsync<Item, ItemKey, int>(ItemType, new ItemKey(1), 0, Load, CancellationToken.None));
        Assert.Equal(new Item(1), await engine.GetOrLoadAsync<Item, ItemKey, int>(ItemType, new ItemKey(1), 0, Load, CancellationToken.None));
        Assert.Equal(2, calls);
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryCacheEngine(_time, maxEntries: -1));
    }

    private sealed record Item(int Id);

    private readonly record struct ItemKey(int Id) : ICacheKey<ItemKey>
    {
        public int MaxPartsLength => 11;

        public int WriteParts(Span<byte> destination) =>
            Utf8Formatter.TryFormat(Id, destination, out var written) ? written : throw new ArgumentException("Too small.", nameof(destination));
    }

    private sealed class ItemFormatter : IMessagePackFormatter<Item>
    {
        public void Serialize(ref MessagePackWriter writer, Item value, MessagePackSerializerOptions options) => writer.Write(value.Id);

        public Item Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => new(reader.ReadInt32());
    }
}
