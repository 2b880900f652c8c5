using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Quickstart;
using Shop;

// The shop: `init --db PATH` creates the database; `service --name NAME --db PATH --zookeeper CONNECT --root ROOT`
// and `admin ...` (same options) run one process of the shop on the cluster, driven by commands on stdin (ShopService
// lists them). scripts/demo runs two services and an admin; a person can too, with a cluster of their own.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var options = Options.Parse(args);
switch (args.FirstOrDefault())
{
    case "init":
        await ShopDb.CreateAsync(options.Get("db"), stop.Token);
        Console.WriteLine($"created {options.Get("db")}");
        return 0;
    case "service" or "admin":
        // The generic host's container, as in a web app: ShopCache is registered like a DbContext, one per process. The
        // ring comes from the memcached servers registered in ZooKeeper, or from --memcached when given. The empty builder
        // adds no logging provider, so stdout carries the protocol only.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTypedCache<ShopCache>(o => o
            .UseZooKeeper(options.Get("zookeeper"), options.Get("root"))
            .UseMemcached(options.Find("memcached")?.Split(',') ?? [])
            .UseLocalCache(10_000));
        builder.Services.AddSingleton(provider => ShopDb.Options(options.Get("db"), provider.GetRequiredService<ShopCache>()));
        builder.Services.AddSingleton<ShopMetrics>();
        builder.Services.AddSingleton(provider => new ShopService(
            options.Get("name"),
            args[0] == "admin",
            provider.GetRequiredService<ShopCache>(),
            provider.GetRequiredService<DbContextOptions<ShopDb>>(),
            provider.GetRequiredService<ShopMetrics>()));
        using (var host = builder.Build())
        {
            await host.Services.GetRequiredService<ShopService>().RunAsync(stop.Token);
        }

        return 0;
    default:
        Console.Error.WriteLine("usage: shop init --db PATH | shop (service|admin) --name NAME --db PATH --zookeeper HOST:PORT,... --root /typedcache/shop");
        Console.Error.WriteLine("scripts/demo starts a cluster, two services and an admin, and drives them.");
        return 2;
}

/// <summary><c>--name value</c> pairs after the mode.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Expected `--name value`, got '{args[i]}'.");
            options._values[args[i][2..]] = args[i + 1];
        }

        return options;
    }

    public string Get(string name) => Find(name) ?? throw new ArgumentException($"Missing --{name}.");

    public string? Find(string name) => _values.GetValueOrDefault(name);
}
