using Microsoft.Extensions.Time.Testing;

namespace TypedCache.Api.Tests;

public sealed class RepositoryTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ShopCache _cache;
    private readonly AllCache _all;

    public RepositoryTests()
    {
        _cache = new ShopCache(new CacheContextOptionsBuilder<ShopCache>().UseInMemory().UseTimeProvider(_time).Options);
        _all = new AllCache(new CacheContextOptionsBuilder<AllCache>().UseInMemory().UseTimeProvider(_time).UseKeyPrefix("all").Options);
    }

    [Fact]
    public async Task Get_misses_until_set_then_hits()
    {
        Assert.Null(await _cache.Products.GetAsync(1));
        await _cache.Products.SetAsync(new Product(1, "Tea", 2m));
        Assert.Equal(new Product(1, "Tea", 2m), await _cache.Products.GetAsync(1));
        Assert.Null(await _cache.Products.GetAsync(2));
    }

    [Fact]
    public async Task Multi_part_keys_address_entries()
    {
        await _cache.Stock.SetAsync(new Stock(7, "SKU-1", 3));
        Assert.Equal(3, (await _cache.Stock.GetAsync(7, "SKU-1"))?.Quantity);
        Assert.Null(await _cache.Stock.GetAsync(7, "SKU-2"));
        Assert.Null(await _cache.Stock.GetAsync(8, "SKU-1"));
    }

    [Fact]
    public async Task Entries_expire_after_their_ttl()
    {
        await _cache.Stock.SetAsync(new Stock(1, "a", 1));
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "a"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await _cache.Stock.GetAsync(1, "a"));
    }

    [Fact]
    public async Task GetOrLoad_loads_a_miss_once_and_passes_the_key_parts()
    {
        var calls = new List<(int, string)>();
        ValueTask<Stock?> Load(int warehouse, string sku, CancellationToken ct)
        {
            calls.Add((warehouse, sku));
            return new ValueTask<Stock?>(new Stock(warehouse, sku, 9));
        }

        Assert.Equal(9, (await _cache.Stock.GetOrLoadAsync(7, "S", Load))?.Quantity);
        Assert.Equal(9, (await _cache.Stock.GetOrLoadAsync(7, "S", Load))?.Quantity);
        Assert.Equal([(7, "S")], calls);
    }

    [Fact]
    public async Task A_null_load_is_not_cached()
    {
        var calls = 0;
        ValueTask<Product?> Load(int id, CancellationToken ct)
        {
            calls++;
            return new ValueTask<Product?>((Product?)null);
        }

        Assert.Null(await _cache.Products.GetOrLoadAsync(1, Load));
        Assert.Null(await _cache.Products.GetOrLoadAsync(1, Load));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_load_once()
    {
        var release = new TaskCompletionSource<Product?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        ValueTask<Product?> Load(int id, CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<Product?>(release.Task);
        }

        var callers = Enumerable.Range(0, 20).Select(_ => _cache.Products.GetOrLoadAsync(5, Load).AsTask()).ToArray();
        release.SetResult(new Product(5, "Shared", 1m));
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, calls);
        Assert.All(results, static p => Assert.Equal("Shared", p?.Name));
    }

    [Fact]
    public async Task A_loader_exception_reaches_every_waiter_and_caches_nothing()
    {
        var release = new TaskCompletionSource<Product?>(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask<Product?> Load(int id, CancellationToken ct) => new(release.Task);

        var first = _cache.Products.GetOrLoadAsync(5, Load).AsTask();
        var second = _cache.Products.GetOrLoadAsync(5, Load).AsTask();
        release.SetException(new InvalidOperationException("database down"));

        Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => first)).Message);
        Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => second)).Message);
        Assert.Null(await _cache.Products.GetAsync(5));
    }

    [Fact]
    public async Task A_value_loaded_across_an_invalidation_is_returned_but_not_stored()
    {
        var release = new TaskCompletionSource<Product?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loading = _cache.Products.GetOrLoadAsync(3, (id, ct) => new ValueTask<Product?>(release.Task)).AsTask();
        await _cache.Products.InvalidateAsync(3);
        release.SetResult(new Product(3, "Old", 1m));

        Assert.Equal("Old", (await loading)?.Name);
        Assert.Null(await _cache.Products.GetAsync(3));
    }

    [Fact]
    public async Task A_value_loaded_across_a_type_invalidation_is_stale()
    {
        var release = new TaskCompletionSource<Product?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loading = _cache.Products.GetOrLoadAsync(3, (id, ct) => new ValueTask<Product?>(release.Task)).AsTask();
        await _cache.Products.InvalidateAllAsync();
        release.SetResult(new Product(3, "Old", 1m));

        Assert.Equal("Old", (await loading)?.Name);
        Assert.Null(await _cache.Products.GetAsync(3));
    }

    [Fact]
    public async Task Invalidate_removes_one_key()
    {
        await _cache.Stock.SetAsync(new Stock(1, "a", 1));
        await _cache.Stock.SetAsync(new Stock(1, "b", 2));
        await _cache.Stock.InvalidateAsync(1, "a");
        Assert.Null(await _cache.Stock.GetAsync(1, "a"));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "b"));
    }

    [Fact]
    public async Task InvalidateAll_removes_the_type_and_moves_its_key_version()
    {
        await _cache.Products.SetAsync(new Product(1, "a", 1m));
        await _cache.Stock.SetAsync(new Stock(1, "a", 1));
        Assert.Equal("tc:Product:0:1", _cache.Products.KeyFor(1));

        await _cache.Products.InvalidateAllAsync();

        Assert.Null(await _cache.Products.GetAsync(1));
        Assert.NotNull(await _cache.Stock.GetAsync(1, "a"));
        Assert.Equal("tc:Product:1:1", _cache.Products.KeyFor(1));
        await _cache.Products.SetAsync(new Product(1, "b", 1m));
        Assert.Equal("b", (await _cache.Products.GetAsync(1))?.Name);
    }

    [Fact]
    public async Task InvalidateTag_removes_every_type_carrying_it_and_no_other()
    {
        await _all.Composites.SetAsync(new Composite { Text = "c" });
        await _all.Everything.SetAsync(new Everything(Guid.Empty));
        var compositeKey = CompositeKey.Of(new Composite { Text = "c" });

        await _all.InvalidateTagAsync("keys");

        Assert.Empty(await _all.Composites.GetManyAsync([compositeKey]));
        Assert.NotNull(await _all.Everything.GetAsync(Guid.Empty));
        await Assert.ThrowsAsync<ArgumentException>(async () => await _all.InvalidateTagAsync("bad tag"));
    }

    [Fact]
    public async Task A_tag_invalidation_ends_before_the_next_set()
    {
        await _cache.Products.SetAsync(new Product(1, "a", 1m));
        await _cache.InvalidateTagAsync("catalog");
        Assert.Null(await _cache.Products.GetAsync(1));
        await _cache.Products.SetAsync(new Product(1, "a", 1m));
        Assert.NotNull(await _cache.Products.GetAsync(1));
    }

    [Fact]
    public async Task GetMany_returns_only_cached_keys()
    {
        await _cache.Products.SetAsync(new Product(1, "a", 1m));
        await _cache.Products.SetAsync(new Product(3, "c", 1m));

        var found = await _cache.Products.GetManyAsync([1, 2, 3, 1]);

        Assert.Equal([1, 3], found.Keys.Select(static k => k.Id).Order());
        Assert.Equal("c", found[3].Name);
    }

    [Fact]
    public async Task GetOrLoadMany_loads_all_misses_in_one_call()
    {
        await _cache.Products.SetAsync(new Product(1, "cached", 1m));
        var calls = new List<int[]>();
        ValueTask<IEnumerable<Product>> Load(IReadOnlyList<ProductKey> keys, CancellationToken ct)
        {
            calls.Add(keys.Select(static k => k.Id).ToArray());
            return new ValueTask<IEnumerable<Product>>(keys.Where(static k => k.Id != 4).Select(static k => new Product(k.Id, "loaded", 2m)).ToList());
        }

        var found = await _cache.Products.GetOrLoadManyAsync([1, 2, 3, 4, 2], Load);
        var again = await _cache.Products.GetOrLoadManyAsync([2, 3], Load);

        Assert.Equal([[2, 3, 4]], calls);
        Assert.Equal([1, 2, 3], found.Keys.Select(static k => k.Id).Order());
        Assert.Equal("cached", found[1].Name);
        Assert.Equal("loaded", found[2].Name);
        Assert.Equal(2, again.Count);
    }

    [Fact]
    public async Task GetOrLoadMany_shares_loads_in_flight_with_single_gets()
    {
        var release = new TaskCompletionSource<Product?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var single = _cache.Products.GetOrLoadAsync(2, (id, ct) => new ValueTask<Product?>(release.Task)).AsTask();
        var batchKeys = new List<int>();
        var batch = _cache.Products.GetOrLoadManyAsync(
            [1, 2],
            (keys, ct) =>
            {
                batchKeys.AddRange(keys.Select(static k => k.Id));
                return new ValueTask<IEnumerable<Product>>([new Product(1, "batch", 1m)]);
            }).AsTask();
        release.SetResult(new Product(2, "single", 1m));

        var found = await batch;
        Assert.Equal([1], batchKeys);
        Assert.Equal("single", found[2].Name);
        Assert.Equal("single", (await single)?.Name);
    }

    [Fact]
    public async Task Cached_objects_are_copies()
    {
        var line = new Line { Sku = "a", Quantity = 1 };
        var value = new Everything(Guid.Empty) { Lines = [line] };
        await _all.Everything.SetAsync(value);
        line.Sku = "changed";

        var first = await _all.Everything.GetAsync(Guid.Empty);
        first!.Lines![0].Sku = "changed again";
        var second = await _all.Everything.GetAsync(Guid.Empty);

        Assert.Equal("a", second!.Lines![0].Sku);
    }

    [Fact]
    public async Task Lock_is_exclusive_per_key_and_released_on_dispose()
    {
        var held = await _cache.Stock.LockAsync(1, "a", TimeSpan.FromSeconds(5));
        await using (await _cache.Stock.LockAsync(1, "b", TimeSpan.FromSeconds(5)))
        {
        }

        var waiting = _cache.Stock.LockAsync(1, "a", TimeSpan.FromSeconds(5)).AsTask();
        Assert.False(waiting.IsCompleted);
        await held.DisposeAsync();
        await held.DisposeAsync();
        await using (await waiting)
        {
        }

        await using (await _cache.Stock.LockAsync(1, "a", TimeSpan.Zero))
        {
        }
    }

    [Fact]
    public async Task Lock_times_out_with_a_clear_exception()
    {
        await using var held = await _cache.Products.LockAsync(1, TimeSpan.FromSeconds(5));
        var waiting = _cache.Products.LockAsync(1, TimeSpan.FromSeconds(5)).AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));

        var exception = await Assert.ThrowsAsync<TimeoutException>(() => waiting);
        Assert.Contains("Product key '1'", exception.Message);
        Assert.Contains("00:00:05", exception.Message);
        await Assert.ThrowsAsync<TimeoutException>(async () => await _cache.Products.LockAsync(1, TimeSpan.Zero));
    }

    [Fact]
    public async Task Lock_wait_can_be_cancelled()
    {
        await using var held = await _cache.Products.LockAsync(1, TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource();
        var waiting = _cache.Products.LockAsync(1, Timeout.InfiniteTimeSpan, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _cache.Products.LockAsync(1, TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task Bad_arguments_fail_clearly()
    {
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _cache.Products.SetAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _cache.Products.GetOrLoadAsync(1, null!));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await _cache.Stock.GetAsync(1, null!));
        Assert.Throws<ArgumentException>(() => new CacheContextOptionsBuilder<ShopCache>().UseKeyPrefix("has space"));
        var exception = Assert.Throws<InvalidOperationException>(() => new ShopCache(new CacheContextOptionsBuilder<ShopCache>().Options));
        Assert.Contains("UseInMemory()", exception.Message);
    }

    [Fact]
    public void Descriptors_carry_the_attribute_values()
    {
        Assert.Equal("everything", EverythingRepo.Descriptor.Name);
        Assert.Equal(TimeSpan.FromSeconds(30), EverythingRepo.Descriptor.Ttl);
        Assert.Equal(TimeSpan.FromSeconds(5), EverythingRepo.Descriptor.LocalTtl);
        Assert.Equal(TimeSpan.FromSeconds(600), ProductRepo.Descriptor.LocalTtl);
        Assert.Equal(["catalog"], ProductRepo.Descriptor.Tags.ToArray());
        Assert.Empty(StockRepo.Descriptor.Tags);
        Assert.NotEqual(ProductRepo.Descriptor.SchemaHash, StockRepo.Descriptor.SchemaHash);
        Assert.Equal("all:everything:0:00000000000000000000000000000000", _all.Everything.KeyFor(Guid.Empty));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cache.DisposeAsync();
        await _all.DisposeAsync();
    }
}
