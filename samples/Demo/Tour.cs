using System.Diagnostics;
using System.Globalization;
using Shop;
using Spectre.Console;

namespace Demo;

/// <summary>
/// The steps of the demo: the Shop sample's processes (two services and an admin) on a real cluster, each step printed
/// in plain words with its timing.
/// </summary>
internal sealed class Tour(DemoCluster cluster, List<(string Step, string Result, TimeSpan Time)> summary)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static string Ms(TimeSpan time) => time.TotalMilliseconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{time.TotalMicroseconds:0} µs")
        : string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.0} ms");

    public async Task RunAsync(CancellationToken ct)
    {
        AnsiConsole.Write(new Rule("[bold]TypedCache demo: a shop on a real cluster[/]"));
        AnsiConsole.MarkupLine("TypedCache keeps typed .NET records in memcached, spread over servers by a hash ring whose members live in ZooKeeper;");
        AnsiConsole.MarkupLine("ZooKeeper also carries invalidations between services and holds locks. Everything below runs for real on this machine:");
        AnsiConsole.MarkupLine("a shop whose database (SQLite, through EF Core) is the source of truth, two shop services that read through the cache, and an admin.");

        await Step("1. Start a cluster", ct, async () =>
        {
            var time = Stopwatch.StartNew();
            await AnsiConsole.Status().StartAsync("Starting 3 memcached servers and a 3-member ZooKeeper ensemble...", _ => cluster.StartServersAsync(ct));
            Say($"3 memcached servers ({string.Join(", ", cluster.Memcached.Select(m => m.Endpoint))}) and ZooKeeper ({cluster.ZooKeeper!.ConnectString}, leader: member {cluster.ZooKeeper.LeaderIndex}) are up in {Ms(time.Elapsed)}.");
            var registrars = Stopwatch.StartNew();
            await AnsiConsole.Status().StartAsync("Starting a `typedcache register` per memcached...", _ => cluster.StartRegistrarsAsync(ct));
            Say($"A registrar per memcached (`typedcache register`) checks its server and lists it under {DemoCluster.Root}/nodes: done in {Ms(registrars.Elapsed)}.");
            await Cli(ct, "nodes");
            return "3 memcached, 3 ZooKeeper, 3 registrars";
        });

        ShopProcess serviceA = null!, serviceB = null!, admin = null!;
        await Step("2. Start the shop", ct, async () =>
        {
            var time = Stopwatch.StartNew();
            await AnsiConsole.Status().StartAsync("Creating the shop's database and starting its processes...", async _ =>
            {
                await ShopProcess.CreateDatabaseAsync(cluster.Database, ct);
                (serviceA, serviceB, admin) = await cluster.StartShopAsync(ct);
            });
            Say($"The database ({cluster.Database}) holds 100 products and their stock. Three processes of the Shop sample run now, each with its own cache client");
            Say($"(its own ZooKeeper session, its own in-process level L1, the shared memcached ring L2): service A (PID {serviceA.ProcessId}), service B (PID {serviceB.ProcessId}) and the admin (PID {admin.ProcessId}). Ready in {Ms(time.Elapsed)}.");
            Say($"Each first warmed up on products 91 to 100 (connections, .NET's JIT compiler, EF Core's model: {Ms(serviceA.WarmUp)}, {Ms(serviceB.WarmUp)}, {Ms(admin.WarmUp)}), so that the timings below are the cache's.");
            return "2 services + 1 admin, SQLite via EF Core";
        });

        await Step("3. Reads: database, L1, L2", ct, async () =>
        {
            var cold = await serviceA.SendAsync("product 42", ct);
            Say($"A asks for product 42 ({cold["name"]}, {cold["price"]}): not cached yet, so the loader reads SQLite through EF Core: {Ms(cold.Microseconds("us"))}; database asked: {Yes(cold)}.");
            var l1 = await serviceA.SendAsync("product 42", ct);
            Say($"A asks again: it is in A's own memory (L1): {Ms(l1.Microseconds("us"))}; database asked: {Yes(l1)}.");
            var l2 = await serviceB.SendAsync("product 42", ct);
            Say($"B asks: B never read it, but A's read stored it in memcached (L2), so B gets it from there: {Ms(l2.Microseconds("us"))}; database asked: {Yes(l2)}.");
            var key = (await serviceA.SendAsync("key 42", ct))["key"];
            Say($"Its memcached key is {key}; the ring says where it lives:");
            await Cli(ct, "locate", key);
            return $"database {Ms(cold.Microseconds("us"))}, L1 {Ms(l1.Microseconds("us"))}, L2 {Ms(l2.Microseconds("us"))}";
        });

        await Step("4. The admin changes a price", ct, async () =>
        {
            var watchA = serviceA.SendAsync("watch 42 5.25 10000", ct);
            var watchB = serviceB.SendAsync("watch 42 5.25 10000", ct);
            var saved = await admin.SendAsync("price 42 5.25", ct);
            var began = saved.Time("saved") - saved.Microseconds("us");
            var (a, b) = (await watchA, await watchB);
            var lagA = a.Time("seen") - began;
            var lagB = b.Time("seen") - began;
            Say($"Both services keep reading product 42 (price 4.50, from their L1). The admin sets its price to 5.25 through EF Core: SaveChangesAsync returns in {Ms(saved.Microseconds("us"))},");
            Say("and before it returns, TypedCache's EF Core interceptor has invalidated product 42: in memcached, and through ZooKeeper in every service's L1.");
            Say($"A serves 5.25 {Ms(lagA)} after the save began, B {Ms(lagB)} after. No service was told about the database: the mapping ProductRow -> cache.Products did it.");
            var rollback = await admin.SendAsync("price-rollback 42 9.99", ct);
            var peek = await serviceB.SendAsync("peek 42", ct);
            Say($"The admin saves 9.99 inside a transaction and rolls it back ({Ms(rollback.Microseconds("us"))}): nothing is invalidated, B still holds {peek["price"]} in its cache.");
            return $"A saw it after {Ms(lagA)}, B after {Ms(lagB)}; rollback: nothing invalidated";
        });

        await Step("5. A stampede", ct, async () =>
        {
            var time = Stopwatch.StartNew();
            var a = serviceA.SendAsync("stampede 7 50", ct);
            var b = serviceB.SendAsync("stampede 7 50", ct);
            var loads = (await a).Number("loads") + (await b).Number("loads");
            Say($"100 readers, 50 in A and 50 in B, ask for product 7 at the same moment; nobody has it cached. They all get it in {Ms(time.Elapsed)},");
            Say($"and the database was asked {loads} time(s): a memcached lease lets one reader in the whole cluster load it while the others wait for its value.");
            return $"100 readers, {loads} database load(s)";
        });

        await Step("6. A lock around a stock update", ct, async () =>
        {
            var before = await serviceA.SendAsync("stock 1 TEA-1", ct);
            var a = serviceA.SendAsync("sell 1 TEA-1 300", ct);
            var b = serviceB.SendAsync("sell 1 TEA-1 300", ct);
            var (soldA, soldB) = (await a, await b);
            var (first, second) = soldA.Number("waited_ms") <= soldB.Number("waited_ms") ? (("A", soldA), ("B", soldB)) : (("B", soldB), ("A", soldA));
            var afterA = await serviceA.SendAsync("stock 1 TEA-1", ct);
            var afterB = await serviceB.SendAsync("stock 1 TEA-1", ct);
            Say($"Stock of TEA-1 in warehouse 1: {before["quantity"]}. A and B each sell one at the same moment, under cache.Stock.LockAsync (a ZooKeeper lock on that key):");
            Say($"{first.Item1} got the lock at once ({first.Item2["waited_ms"]} ms), sold one ({first.Item2["quantity"]} left) and kept the lock 300 ms; {second.Item1} waited {second.Item2["waited_ms"]} ms, then sold one ({second.Item2["quantity"]} left).");
            Say($"Each sale was saved through EF Core, whose interceptor invalidated the cached stock: A now reads {afterA["quantity"]}, B reads {afterB["quantity"]}. No sale lost.");
            return $"{second.Item1} waited {second.Item2["waited_ms"]} ms; {before["quantity"]} -> {afterA["quantity"]}";
        });

        await Step("7. A memcached server dies", ct, async () =>
        {
            var key = (await serviceA.SendAsync("key 42", ct))["key"];
            var where = (await cluster.Tool.RunAsync(["locate", key], ct)).Split('\n')[^1];
            var victimIndex = cluster.Memcached.FindIndex(m => where.Contains(m.Endpoint, StringComparison.Ordinal));
            var victim = cluster.Memcached[victimIndex];
            var registrar = cluster.Registrars[victimIndex];
            var time = Stopwatch.StartNew();
            await victim.KillAsync();
            Say($"memcached {victim.Endpoint}, home of product 42, is killed (SIGKILL).");
            var failures = 0;
            var loads = 0;
            foreach (var id in Enumerable.Range(60, 30).Append(42))
            {
                try
                {
                    if ((await serviceB.SendAsync($"product {id}", ct)).Flag("database"))
                        loads++;
                }
                catch (InvalidOperationException)
                {
                    failures++;
                }
            }

            Say($"B reads product 42 and 30 products nobody read yet, right away: {failures} errors; the database served {loads} of the 31 in {Ms(time.Elapsed)} (B's L1 still had 42).");
            var gone = await registrar.WaitForLineAsync("unregistered ", 1, Deadline, ct);
            Say($"Its registrar sees it go after {Ms(time.Elapsed)}: \"{gone}\". The ring shrinks to 2:");
            await Cli(ct, "nodes");
            var restart = Stopwatch.StartNew();
            await victim.StartAsync(ct);
            cluster.ProcessIds.Add(victim.ProcessId);
            await registrar.WaitForLineAsync("registered ", 2, Deadline, ct);
            Say($"memcached {victim.Endpoint} is started again (PID {victim.ProcessId}, empty) and back in the ring after {Ms(restart.Elapsed)}.");
            return $"{failures} errors, ring 3 -> 2 -> 3";
        });

        await Step("8. The ZooKeeper leader dies", ct, async () =>
        {
            var zooKeeper = cluster.ZooKeeper!;
            var leader = await zooKeeper.WaitForLeaderAsync(Deadline, ct);
            var time = Stopwatch.StartNew();
            await zooKeeper.KillAsync(leader);
            Say($"ZooKeeper member {leader} ({zooKeeper.Endpoint(leader)}), the leader, is killed.");
            var watch = serviceA.SendAsync("watch 42 6.00 20000", ct);
            await admin.SendAsync("price 42 6.00", ct);
            await watch;
            var arrived = time.Elapsed;
            Say($"The admin changes the price of product 42 to 6.00 anyway; A serves 6.00 {Ms(arrived)} after the kill: the remaining members elected a new leader and the sessions moved on.");
            var newLeader = await zooKeeper.WaitForLeaderAsync(Deadline, ct);
            await zooKeeper.StartAsync(leader, ct);
            cluster.ProcessIds.Add(zooKeeper.ProcessId(leader));
            Say($"Member {newLeader} leads now; member {leader} is started again and rejoins as a follower ({Ms(time.Elapsed)}).");
            return $"price change seen {Ms(arrived)} after the kill";
        });

        await Step("9. Metrics", ct, async () =>
        {
            (string Title, string Key)[] columns =
            [
                ("reads", "reads"), ("db loads", "database_loads"), ("L1 hits", "meter.typedcache.l1.hits"),
                ("L2 hits", "meter.typedcache.l2.hits"), ("lease wins", "meter.typedcache.lease.wins"),
                ("inval. sent", "meter.typedcache.invalidations.sent"), ("inval. got", "meter.typedcache.invalidations.received"),
                ("lock wait ms", "lock_wait_ms"),
            ];
            var table = new Table().AddColumn("who");
            foreach (var (title, _) in columns)
                table.AddColumn(new TableColumn(title).RightAligned());
            foreach (var process in (ShopProcess[])[serviceA, serviceB, admin])
            {
                var metrics = await process.SendAsync("metrics", ct);
                table.AddRow([process.Name, .. columns.Select(c => metrics.Find(c.Key) ?? "-")]);
            }

            AnsiConsole.Write(table);
            Say("Each process counts its reads, database loads and lock waits itself; the other columns come from TypedCache's own `TypedCache` meter (read with a MeterListener),");
            Say("which also has lease waits, loader durations, invalidation lag, ring size and rebuilds, node up/down and the ZooKeeper state (the `metrics` command of a shop process prints them all).");
            return "reads, loads, cache hits, invalidations per process";
        });
    }

    private static string Yes(Reply reply) => reply.Flag("database") ? "yes" : "no";

    private static void Say(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));

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
