using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace TypedCache.Api.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task The_context_is_one_singleton_that_caches()
    {
        await using var provider = new ServiceCollection().AddTypedCache<ShopCache>(o => o.UseInMemory()).BuildServiceProvider();

        var cache = provider.GetRequiredService<ShopCache>();
        Assert.Same(cache, provider.GetRequiredService<ShopCache>());
        Assert.Same(cache.Options, provider.GetRequiredService<CacheContextOptions<ShopCache>>());
        var calls = 0;
        for (var i = 0; i < 2; i++)
        {
            var product = await cache.Products.GetOrLoadAsync(1, (id, _) =>
            {
                calls++;
                return new ValueTask<Product?>(new Product(id, "Tea", 4.5m));
            });
            Assert.Equal("Tea", product?.Name);
        }

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task The_clock_and_the_loggers_come_from_the_container()
    {
        var time = new FakeTimeProvider();
        var loggers = new NullLoggerFactory();
        var services = new ServiceCollection().AddSingleton<TimeProvider>(time).AddSingleton<ILoggerFactory>(loggers);
        await using var provider = services.AddTypedCache<ShopCache>(o => o.UseInMemory()).BuildServiceProvider();

        var options = provider.GetRequiredService<ShopCache>().Options;

        Assert.Same(time, options.TimeProvider);
        Assert.Same(loggers, options.LoggerFactory);
    }

    [Fact]
    public async Task Without_registrations_the_defaults_are_the_system_clock_and_no_logging()
    {
        await using var provider = new ServiceCollection().AddTypedCache<ShopCache>(o => o.UseInMemory()).BuildServiceProvider();

        var options = provider.GetRequiredService<ShopCache>().Options;

        Assert.Same(TimeProvider.System, options.TimeProvider);
        Assert.Same(NullLoggerFactory.Instance, options.LoggerFactory);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task The_provider_overload_reads_other_services_and_the_first_registration_wins()
    {
        var services = new ServiceCollection().AddSingleton(new KeyPrefixSource("shop"));
        services.AddTypedCache<ShopCache>((provider, o) => o.UseInMemory().UseKeyPrefix(provider.GetRequiredService<KeyPrefixSource>().Prefix));
        services.AddTypedCache<ShopCache>(o => o.UseInMemory().UseKeyPrefix("ignored"));
        await using var provider = services.BuildServiceProvider();

        var cache = provider.GetRequiredService<ShopCache>();

        Assert.Equal("shop", cache.Options.KeyPrefix);
        Assert.Equal("shop:Product:0:7", cache.Products.KeyFor(7));
    }

    [Fact]
    public async Task Configuration_chooses_the_in_memory_engine_and_the_key_prefix()
    {
        await using var provider = Provider(("TypedCache:InMemory", "true"), ("TypedCache:KeyPrefix", "cfg"));

        var cache = provider.GetRequiredService<ShopCache>();
        await cache.Products.SetAsync(new Product(3, "Cup", 2m));

        Assert.Equal("cfg", cache.Options.KeyPrefix);
        Assert.Equal("Cup", (await cache.Products.GetAsync(3))?.Name);
    }

    [Fact]
    public async Task Configuration_bounds_the_in_memory_engine_by_the_local_cache_size()
    {
        await using var provider = Provider(("TypedCache:InMemory", "true"), ("TypedCache:LocalCache:MaxEntries", "0"));

        var cache = provider.GetRequiredService<ShopCache>();
        var calls = 0;
        for (var i = 0; i < 2; i++)
        {
            await cache.Products.GetOrLoadAsync(1, (id, _) =>
            {
                calls++;
                return new ValueTask<Product?>(new Product(id, "Tea", 4.5m));
            });
        }

        // A bound of 0 keeps nothing: each read loads.
        Assert.Equal(2, calls);
    }

    [Theory]
    [InlineData("TypedCache:ZooKeeper:Root", "TypedCache:ZooKeeper:ConnectString", "127.0.0.1:2181")]
    [InlineData("TypedCache:ZooKeeper:ConnectString", "TypedCache:ZooKeeper:Root", "/typedcache/shop")]
    public async Task A_missing_option_is_named_on_first_resolve(string missing, string givenKey, string givenValue)
    {
        await using var provider = Provider((givenKey, givenValue));

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<ShopCache>);

        Assert.Contains($"'{missing}' is missing", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TypedCache:ZooKeeper:ConnectString", "127.0.0.1:notaport", "TypedCache:ZooKeeper:Root", "/typedcache/shop")]
    [InlineData("TypedCache:ZooKeeper:Root", "no-slash", "TypedCache:ZooKeeper:ConnectString", "127.0.0.1:2181")]
    [InlineData("TypedCache:Memcached:Nodes", "127.0.0.1:0", "TypedCache:KeyPrefix", "tc")]
    [InlineData("TypedCache:LeaseTtl", "-00:00:01", "TypedCache:Memcached:Nodes", "127.0.0.1:11211")]
    [InlineData("TypedCache:KeyPrefix", "bad prefix", "TypedCache:InMemory", "true")]
    public async Task An_invalid_option_is_named_on_first_resolve(string key, string value, string otherKey, string otherValue)
    {
        await using var provider = Provider((key, value), (otherKey, otherValue));

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<ShopCache>);

        Assert.Contains($"'{key}' is invalid", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TypedCache:LocalCache:MaxEntries", "many")]
    [InlineData("TypedCache:InMemory", "yes")]
    [InlineData("TypedCache:FailSafeMaxAge", "soon")]
    public async Task A_value_of_the_wrong_kind_is_named(string key, string value)
    {
        await using var provider = Provider((key, value), ("TypedCache:Memcached:Nodes", key.EndsWith("InMemory", StringComparison.Ordinal) ? null : "127.0.0.1:11211"));

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<ShopCache>);

        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configuration_without_an_engine_says_which_keys_choose_one()
    {
        await using var provider = Provider(("TypedCache:KeyPrefix", "shop"));

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<ShopCache>);

        Assert.Contains("'TypedCache:ZooKeeper:ConnectString'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("'TypedCache:InMemory'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configure_action_that_chooses_no_engine_fails_on_first_resolve()
    {
        await using var provider = new ServiceCollection().AddTypedCache<ShopCache>(o => o.UseKeyPrefix("shop")).BuildServiceProvider();

        var exception = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<ShopCache>);

        Assert.Contains("UseInMemory()", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_reads_nodes_as_an_array_or_a_list_and_the_engine_options()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["A:Memcached:Nodes:0"] = "127.0.0.1:11211",
            ["A:Memcached:Nodes:1"] = "127.0.0.1:11212",
            ["B:Memcached:Nodes"] = "127.0.0.1:11211, 127.0.0.1:11212",
            ["B:LeaseTtl"] = "00:00:20",
            ["B:LocalCache:MaxEntries"] = "5",
        }).Build();

        var first = new CacheContextOptionsBuilder<ShopCache>().UseConfiguration(configuration.GetSection("A"));
        var second = new CacheContextOptionsBuilder<ShopCache>().UseConfiguration(configuration.GetSection("B"));

        Assert.Equal(["127.0.0.1:11211", "127.0.0.1:11212"], first.DistributedNodes);
        Assert.Equal(first.DistributedNodes, second.DistributedNodes);
        Assert.Equal(TimeSpan.FromSeconds(20), second.DistributedOptions.LeaseTtl);
        Assert.Equal(5, second.DistributedOptions.LocalCacheMaxEntries);
        Assert.Equal(10_000, first.DistributedOptions.LocalCacheMaxEntries);
    }

    [Fact]
    public void Keys_absent_from_configuration_keep_what_the_builder_had()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TypedCache:ZooKeeper:ConnectString"] = "127.0.0.1:2181",
            ["TypedCache:ZooKeeper:Root"] = "/typedcache/shop",
        }).Build();

        var builder = new CacheContextOptionsBuilder<ShopCache>()
            .UseMemcached(["127.0.0.1:11311"], o => o.LeaseTtl = TimeSpan.FromSeconds(4))
            .UseKeyPrefix("shop")
            .UseConfiguration(configuration.GetSection("TypedCache"));

        Assert.Equal(["127.0.0.1:11311"], builder.DistributedNodes);
        Assert.Equal(TimeSpan.FromSeconds(4), builder.DistributedOptions.LeaseTtl);
        Assert.Equal("shop", builder.Options.KeyPrefix);
    }

    private static ServiceProvider Provider(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Where(s => s.Value is not null).Select(s => KeyValuePair.Create(s.Key, s.Value)))
            .Build();
        return new ServiceCollection().AddTypedCache<ShopCache>(configuration.GetSection("TypedCache")).BuildServiceProvider();
    }

    private sealed record KeyPrefixSource(string Prefix);
}
