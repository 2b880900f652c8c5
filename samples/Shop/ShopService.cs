using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Quickstart;
using TypedCache;

namespace Shop;

/// <summary>
/// One shop process (a service or the admin): its own <see cref="ShopCache"/> on the cluster and its own connection to
/// the database, answering one command per stdin line with one stdout line (<c>ok key=value ...</c> or
/// <c>error message</c>), so that the demo, the tests or a person can drive it.
/// </summary>
/// <remarks>
/// Service commands: <c>product ID</c> (read through the cache; the reply says whether the database was asked),
/// <c>peek ID</c> (the cache only), <c>key ID</c> (the product's memcached key), <c>stock WAREHOUSE SKU</c>, <c>stampede ID CALLERS</c> (concurrent reads of one key),
/// <c>sell WAREHOUSE SKU HOLDMS</c> (under the stock's lock: read the database, sell one, save, hold the lock HOLDMS to show
/// another seller waiting), <c>watch ID PRICE TIMEOUTMS</c> (reads until the price is seen; the reply has the time),
/// <c>metrics</c>. Admin commands: <c>price ID PRICE</c> (saved through EF Core; returns once SaveChangesAsync has),
/// <c>price-rollback ID PRICE</c> (saved inside a transaction that is rolled back), <c>metrics</c>. Times are
/// <see cref="DateTime.UtcNow"/> ticks, comparable across processes on one machine.
/// </remarks>
internal sealed class ShopService(string name, bool admin, ShopCache cache, DbContextOptions<ShopDb> dbOptions, ShopMetrics metrics)
{
    private readonly ShopMetrics _metrics = metrics;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var warming = Stopwatch.StartNew();
        await WarmUpAsync(cancellationToken);
        _metrics.Reset();
        Console.WriteLine($"ready {name} warm_ms={Ms(warming.Elapsed)}");
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line && line != "exit")
        {
            string reply;
            try
            {
                reply = await AnswerAsync(line.Split(' ', StringSplitOptions.RemoveEmptyEntries), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                reply = "error " + e.Message.ReplaceLineEndings(" ");
            }

            Console.WriteLine(reply);
        }
    }

    /// <summary>
    /// Connects and runs every path once on products 91 to 100, so that the first command's timing is the cache's, not the
    /// connections' or the JIT compiler's: a read through the loader, a stock read and its lock, and for the admin a
    /// price saved in a transaction that is rolled back (which invalidates nothing).
    /// </summary>
    private async Task WarmUpAsync(CancellationToken ct)
    {
        if (admin)
        {
            await PriceAsync(100, 1m, commit: false, ct);
            return;
        }

        // The loaders' queries run here whatever the cache holds: the other service may load the keys below first.
        await LoadAsync(db => ShopDb.LoadProduct.For(db)(100, ct));
        await LoadAsync(db => ShopDb.LoadStock.For(db)(1, "TEA-100", ct));
        // Ten keys, so that the connections to every memcached server of the ring are open.
        for (var id = 91; id <= 100; id++)
            await ReadProductAsync(id, ct);
        await PeekAsync(100, ct);
        await StockAsync(1, "TEA-100", ct);
        await (await cache.Stock.LockAsync(1, "TEA-100", TimeSpan.FromSeconds(30), ct)).DisposeAsync();
    }

    private Task<string> AnswerAsync(string[] words, CancellationToken ct) => (words.FirstOrDefault(), admin) switch
    {
        ("product", false) => ProductAsync(Int(words[1]), ct),
        ("peek", false) => PeekAsync(Int(words[1]), ct),
        ("key", false) => Task.FromResult($"ok key={cache.Products.KeyFor(Int(words[1]))}"),
        ("stock", false) => StockAsync(Int(words[1]), words[2], ct),
        ("stampede", false) => StampedeAsync(Int(words[1]), Int(words[2]), ct),
        ("sell", false) => SellAsync(Int(words[1]), words[2], TimeSpan.FromMilliseconds(Int(words[3])), ct),
        ("watch", false) => WatchAsync(Int(words[1]), Decimal(words[2]), TimeSpan.FromMilliseconds(Int(words[3])), ct),
        ("price", true) => PriceAsync(Int(words[1]), Decimal(words[2]), commit: true, ct),
        ("price-rollback", true) => PriceAsync(Int(words[1]), Decimal(words[2]), commit: false, ct),
        ("metrics", _) => Task.FromResult("ok " + _metrics.Describe()),
        _ => Task.FromResult($"error unknown {(admin ? "admin" : "service")} command '{string.Join(' ', words)}'"),
    };

    private async Task<string> ProductAsync(int id, CancellationToken ct)
    {
        var (product, fromDatabase, time) = await ReadProductAsync(id, ct);
        return product is null
            ? $"none database={fromDatabase} us={Us(time)}"
            : $"ok price={Text(product.Price)} database={fromDatabase} us={Us(time)} name={product.Name}";
    }

    private async Task<string> PeekAsync(int id, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        var product = await cache.Products.GetAsync(id, ct);
        return product is null ? $"none us={Us(time.Elapsed)}" : $"ok price={Text(product.Price)} us={Us(time.Elapsed)}";
    }

    private async Task<string> StockAsync(int warehouseId, string sku, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        var loads = _metrics.DatabaseLoads;
        var stock = await cache.Stock.GetOrLoadAsync(warehouseId, sku, (w, s, token) => LoadAsync(db => ShopDb.LoadStock.For(db)(w, s, token)), ct);
        _metrics.Read(time.Elapsed);
        return stock is null ? "none" : $"ok quantity={stock.Quantity} database={_metrics.DatabaseLoads > loads} us={Us(time.Elapsed)}";
    }

    private async Task<string> StampedeAsync(int id, int callers, CancellationToken ct)
    {
        var loads = _metrics.DatabaseLoads;
        var time = Stopwatch.StartNew();
        var reads = await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(() => ReadProductAsync(id, ct), ct)));
        var prices = reads.Select(r => r.Product?.Price).Distinct().ToList();
        return $"ok loads={_metrics.DatabaseLoads - loads} callers={callers} prices={prices.Count} ms={Ms(time.Elapsed)}";
    }

    private async Task<string> SellAsync(int warehouseId, string sku, TimeSpan hold, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        await using (await cache.Stock.LockAsync(warehouseId, sku, TimeSpan.FromSeconds(30), ct))
        {
            var waited = time.Elapsed;
            _metrics.LockWaited(waited);
            await using var db = new ShopDb(dbOptions);
            var row = await db.Stock.SingleAsync(s => s.WarehouseId == warehouseId && s.Sku == sku, ct);
            if (row.Quantity == 0)
                return $"none waited_ms={Ms(waited)}";
            row.Quantity--;
            await db.SaveChangesAsync(ct); // the interceptor invalidates the cached stock in every service
            await Task.Delay(hold, ct); // the rest of the work done under the lock, for the demo to see a seller wait
            return $"ok quantity={row.Quantity} waited_ms={Ms(waited)} started={DateTime.UtcNow.Ticks - time.Elapsed.Ticks}";
        }
    }

    private async Task<string> WatchAsync(int id, decimal price, TimeSpan timeout, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        var reads = 0;
        while (time.Elapsed < timeout)
        {
            reads++;
            if ((await ReadProductAsync(id, ct)).Product?.Price == price)
                return $"ok seen={DateTime.UtcNow.Ticks} reads={reads}";
            await Task.Delay(1, ct);
        }

        return $"error price {Text(price)} of product {id} not seen within {Ms(timeout)} ms";
    }

    private async Task<string> PriceAsync(int id, decimal price, bool commit, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        await using var db = new ShopDb(dbOptions);
        await using var transaction = commit ? null : await db.Database.BeginTransactionAsync(ct);
        var row = await db.Products.SingleAsync(p => p.Id == id, ct);
        row.Price = price;
        await db.SaveChangesAsync(ct);
        var saved = DateTime.UtcNow.Ticks;
        if (transaction is not null)
            await transaction.RollbackAsync(ct);
        _metrics.Saved();
        return $"ok saved={saved} us={Us(time.Elapsed)}";
    }

    private async Task<(Product? Product, bool FromDatabase, TimeSpan Time)> ReadProductAsync(int id, CancellationToken ct)
    {
        var time = Stopwatch.StartNew();
        var loaded = false;
        var product = await cache.Products.GetOrLoadAsync(id, (key, token) =>
        {
            loaded = true;
            return LoadAsync(db => ShopDb.LoadProduct.For(db)(key, token));
        }, ct);
        _metrics.Read(time.Elapsed);
        return (product, loaded, time.Elapsed);
    }

    /// <summary>A miss opens a unit of work of its own and reads through it: a hit costs no DbContext.</summary>
    private async ValueTask<T?> LoadAsync<T>(Func<ShopDb, ValueTask<T?>> query)
        where T : class
    {
        _metrics.DatabaseLoad();
        await using var db = new ShopDb(dbOptions);
        return await query(db);
    }

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    private static decimal Decimal(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);

    private static string Text(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Us(TimeSpan time) => ((long)time.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);

    private static string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture);
}
