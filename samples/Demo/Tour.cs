using System.Diagnostics;
using System.Globalization;
using Quickstart;
using Spectre.Console;
using TypedCache;

namespace Demo;

/// <summary>The steps of the demo, each printed in plain words with its timing.</summary>
internal sealed class Tour(DemoCluster cluster, List<(string Step, string Result, TimeSpan Time)> summary)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private int _loads;

    public static string Ms(TimeSpan time) => time.TotalMilliseconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalMicroseconds:0} µs")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.0} ms");

    public async Task RunAsync(CancellationToken ct)
    {
        AnsiConsole.Write(new Rule("[bold]TypedCache demo[/]"));
        AnsiConsole.MarkupLine("TypedCache keeps typed .NET records in memcached, spread over servers by a hash ring whose members live in ZooKeeper;");
        AnsiConsole.MarkupLine("ZooKeeper also carries invalidations between services and holds locks. Everything below runs for real on this machine.");

        await Step("1. Start a cluster", ct, async () =>
        {
            var time = Stopwatch.StartNew();
            await AnsiConsole.Status().StartAsync("Starting 3 memcached servers and a 3-member ZooKeeper ensemble...", _ => cluster.StartServersAsync(ct));
            Say($"3 memcached servers ({string.Join(", ", cluster.Memcached.Select(m => m.Endpoint))}) and ZooKeeper ({cluster.ZooKeeper!.ConnectString}, leader: member {cluster.ZooKeeper.LeaderIndex}) are up in {Ms(time.Elapsed)}.");
            var registrars = Stopwatch.StartNew();
            await AnsiConsole.Status().StartAsync("Starting a `typedcache register` per memcached...", _ => cluster.StartRegistrarsAsync(ct));
            Say($"A registrar per memcached (`typedcache register`) checks its server and lists it under {DemoCluster.Root}/nodes: done in {Ms(registrars.Elapsed)}.");
            return "3 memcached, 3 ZooKeeper, 3 registrars";
        });

        await Step("2. The ring as the CLI sees it", ct, async () =>
        {
            await Cli(ct, "nodes");
            await Cli(ct, "ring");
            return "typedcache nodes, ring";
        });

        var builder = () => new CacheContextOptionsBuilder<ShopCache>()
            .UseZooKeeper(cluster.ZooKeeper!.ConnectString, DemoCluster.Root)
            .UseMemcached()
            .UseLocalCache(1_000);
        await using var serviceA = new ShopCache(builder().Options);
        await using var serviceB = new ShopCache(builder().Options);
        Say("Two services, A and B, each open their own CacheContext: their own ZooKeeper session, their own in-process level (L1), the same memcached ring (L2).");

        await Step("3a. Miss, then hits", ct, async () =>
        {
            var miss = await Timed(() => serviceA.Products.GetOrLoadAsync(42, LoadProductAsync, ct));
            Say($"A asks for product 42: not cached, so its loader (a 20 ms \"database\") runs: {miss.Value} in {Ms(miss.Time)} (with A's first connections), loader calls: {_loads}.");
            var l1 = await Timed(() => serviceA.Products.GetOrLoadAsync(42, LoadProductAsync, ct));
            Say($"A asks again: served from A's own memory (L1) in {Ms(l1.Time)}, loader calls: {_loads}.");
            var l2 = await Timed(() => serviceB.Products.GetOrLoadAsync(42, LoadProductAsync, ct));
            Say($"B asks: B has never seen it, so it reads memcached (L2) in {Ms(l2.Time)}, loader calls still {_loads}.");
            Say($"The memcached key is {serviceA.Products.KeyFor(42)}; where it lives:");
            await Cli(ct, "locate", serviceA.Products.KeyFor(42));
            return $"miss {Ms(miss.Time)}, L1 hit {Ms(l1.Time)}, L2 hit {Ms(l2.Time)}, 1 loader call";
        });

        await Step("3b. Invalidate one key", ct, async () =>
        {
            var time = Stopwatch.StartNew();
            await serviceA.Products.InvalidateAsync(42, ct);
            var sent = time.Elapsed;
            await PollAsync(async () => await serviceB.Products.GetAsync(42, ct) is null, "B drops product 42", ct);
            Say($"A invalidates product 42 ({Ms(sent)}); B stops serving the old value {Ms(time.Elapsed)} after A started (ZooKeeper told B to drop it from its L1).");
            return $"seen by B after {Ms(time.Elapsed)}";
        });

        await Step("3c. Invalidate a whole type, then a tag", ct, async () =>
        {
            foreach (var id in Enumerable.Range(1, 5))
                await serviceB.Products.GetOrLoadAsync(id, LoadProductAsync, ct);
            var all = Stopwatch.StartNew();
            await serviceA.Products.InvalidateAllAsync(ct);
            await PollAsync(async () => await serviceB.Products.GetAsync(1, ct) is null, "B drops every product", ct);
            var allSeen = all.Elapsed;
            Say($"B caches products 1-5; A calls Products.InvalidateAllAsync() (one version number in ZooKeeper, no key is touched): B stops serving all of them after {Ms(allSeen)}.");
            foreach (var id in Enumerable.Range(1, 5))
                await serviceB.Products.GetOrLoadAsync(id, LoadProductAsync, ct);
            var tag = Stopwatch.StartNew();
            await serviceA.InvalidateTagAsync("catalog", ct);
            await PollAsync(async () => await serviceB.Products.GetAsync(1, ct) is null, "B drops the catalog", ct);
            var tagSeen = tag.Elapsed;
            Say($"B loads them again; A calls InvalidateTagAsync(\"catalog\"): every type tagged \"catalog\" is gone in B after {Ms(tagSeen)}.");
            return $"seen by B: type after {Ms(allSeen)}, tag after {Ms(tagSeen)}";
        });

        await Step("3d. A stampede", ct, async () =>
        {
            var before = _loads;
            var time = Stopwatch.StartNew();
            var calls = Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? serviceA : serviceB).Products.GetOrLoadAsync(7, LoadProductAsync, ct).AsTask());
            var results = await Task.WhenAll(calls);
            var loads = _loads - before;
            Say($"100 callers, half in A and half in B, ask for product 7 at once: all get {results[0]} in {Ms(time.Elapsed)}, with {loads} loader call (a memcached lease lets one caller in the whole cluster load).");
            return $"100 concurrent calls, {loads} loader call";
        });

        await Step("3e. A lock around a stock update", ct, async () =>
        {
            await serviceA.Stock.SetAsync(new Stock(1, "TEA-1", 10), ct);
            var time = Stopwatch.StartNew();
            var lockA = await serviceA.Stock.LockAsync(1, "TEA-1", TimeSpan.FromSeconds(10), ct);
            var bWaits = Task.Run(async () =>
            {
                var waited = Stopwatch.StartNew();
                await using (await serviceB.Stock.LockAsync(1, "TEA-1", TimeSpan.FromSeconds(10), ct))
                {
                    var stock = await serviceB.Stock.GetAsync(1, "TEA-1", ct);
                    await serviceB.Stock.SetAsync(stock! with { Quantity = stock.Quantity - 1 }, ct);
                    return waited.Elapsed;
                }
            }, ct);
            await using (lockA)
            {
                var stock = await serviceA.Stock.GetAsync(1, "TEA-1", ct);
                await serviceA.Stock.SetAsync(stock! with { Quantity = stock.Quantity - 1 }, ct);
                Say($"A holds the ZooKeeper lock on stock (1, TEA-1) and sells one: 10 -> 9. B wants to sell one too and waits (done yet: {bWaits.IsCompleted}).");
            }

            var bWaited = await bWaits;
            await PollAsync(async () => (await serviceA.Stock.GetAsync(1, "TEA-1", ct))?.Quantity == 8, "A sees B's sale", ct);
            Say($"A releases; B gets the lock after waiting {Ms(bWaited)}, reads 9 and sells one: both services now see 8 ({Ms(time.Elapsed)} in all).");
            return $"B waited {Ms(bWaited)} for A; 10 -> 8, no sale lost";
        });

        await Step("4. A memcached server dies", ct, async () =>
        {
            var key = serviceA.Products.KeyFor(42);
            var where = (await cluster.Tool.RunAsync(["locate", key], ct)).Split('\n')[^1];
            var victimIndex = cluster.Memcached.FindIndex(m => where.Contains(m.Endpoint, StringComparison.Ordinal));
            var victim = cluster.Memcached[victimIndex];
            var registrar = cluster.Registrars[victimIndex];
            var time = Stopwatch.StartNew();
            await victim.KillAsync();
            Say($"memcached {victim.Endpoint}, home of product 42, is killed (SIGKILL).");
            var before = _loads;
            var failures = 0;
            foreach (var id in Enumerable.Range(100, 30).Append(42))
            {
                try
                {
                    await serviceB.Products.GetOrLoadAsync(id, LoadProductAsync, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failures++;
                }
            }

            Say($"B reads product 42 (its server is dead) and 30 products it never read, right away: {failures} exceptions; the loader served {_loads - before} of the 31 in {Ms(time.Elapsed)}.");
            var gone = await registrar.WaitForLineAsync("unregistered ", 1, Deadline, ct);
            Say($"Its registrar sees it go after {Ms(time.Elapsed)}: \"{gone}\". The ring shrinks:");
            await Cli(ct, "nodes");
            var restart = Stopwatch.StartNew();
            await victim.StartAsync(ct);
            cluster.ProcessIds.Add(victim.ProcessId);
            await registrar.WaitForLineAsync("registered ", 2, Deadline, ct);
            Say($"memcached {victim.Endpoint} is started again (PID {victim.ProcessId}) and registered again after {Ms(restart.Elapsed)}.");
            await Cli(ct, "nodes");
            return $"{failures} exceptions, ring 3 -> 2 -> 3";
        });

        await Step("5. The ZooKeeper leader dies", ct, async () =>
        {
            var zooKeeper = cluster.ZooKeeper!;
            await serviceB.Products.GetOrLoadAsync(42, LoadProductAsync, ct);
            var leader = await zooKeeper.WaitForLeaderAsync(Deadline, ct);
            var time = Stopwatch.StartNew();
            await zooKeeper.KillAsync(leader);
            Say($"ZooKeeper member {leader} ({zooKeeper.Endpoint(leader)}), the leader, is killed.");
            await serviceA.Products.InvalidateAsync(42, ct);
            await PollAsync(async () => await serviceB.Products.GetAsync(42, ct) is null, "B drops product 42 without the old leader", ct);
            var arrived = time.Elapsed;
            Say($"A invalidates product 42 anyway; B drops it {Ms(arrived)} after the kill: the sessions moved to the other members.");
            var newLeader = await zooKeeper.WaitForLeaderAsync(Deadline, ct);
            await zooKeeper.StartAsync(leader, ct);
            cluster.ProcessIds.Add(zooKeeper.ProcessId(leader));
            Say($"Member {newLeader} leads now; member {leader} is started again and rejoins as a follower ({Ms(time.Elapsed)}).");
            return $"invalidation arrived {Ms(arrived)} after the kill";
        });
    }

    private static void Say(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));

    private static async Task<(T Value, TimeSpan Time)> Timed<T>(Func<ValueTask<T>> call)
    {
        var time = Stopwatch.StartNew();
        var value = await call();
        return (value, time.Elapsed);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; a timeout names what never happened.</summary>
    private static async Task PollAsync(Func<Task<bool>> condition, string what, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Deadline)
                throw new TimeoutException($"timed out after {Deadline.TotalSeconds} s waiting until {what}");
            await Task.Yield();
            ct.ThrowIfCancellationRequested();
        }
    }

    private async ValueTask<Product?> LoadProductAsync(int id, CancellationToken ct)
    {
        Interlocked.Increment(ref _loads);
        await Task.Delay(20, ct); // the "database"
        return new Product(id, id == 42 ? "Green tea" : $"Tea #{id}", 4.50m);
    }

    private async Task Cli(CancellationToken ct, params string[] arguments)
    {
        AnsiConsole.MarkupLine($"[grey]$ {Markup.Escape(cluster.Tool.CommandLine(arguments))}[/]");
        AnsiConsole.WriteLine(await cluster.Tool.RunAsync(arguments, ct));
    }

    private async Task Step(string title, CancellationToken ct, Func<Task<string>> body)
    {
        ct.ThrowIfCancellationRequested();
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(title)}[/]").LeftJustified());
        var time = Stopwatch.StartNew();
        var result = await body();
        summary.Add((title, result, time.Elapsed));
    }
}
