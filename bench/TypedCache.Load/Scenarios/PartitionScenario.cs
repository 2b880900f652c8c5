using TypedCache.Cluster;
using TypedCache.Load.Measure;
using TypedCache.Testing;

namespace TypedCache.Load.Scenarios;

/// <summary>
/// <c>partition</c>: one service (the reader) is cut off from one memcached server and from every ZooKeeper member
/// through <see cref="FaultyRelay"/>s (connections refused and dropped) for a third of the run. Both probe services
/// reach that memcached server through the same relay, so their rings agree; the probe's keys live on the other two
/// servers, while the cut-off service keeps reading keys of the cut server. Verdicts: no caller of the cut-off service
/// sees an exception, and no invalidation sent during the partition is lost once it heals.
/// </summary>
internal sealed class PartitionScenario : InvalidationFaultScenario
{
    public override string Name => "partition";

    public override string Description =>
        "A service is cut off from one memcached server and from ZooKeeper (relays refuse and drop its connections) from a third to two thirds of the run, while another service invalidates keys it holds.";

    protected override async Task<ProbeSetup> SetUpAsync(ScenarioContext context)
    {
        var cluster = context.Cluster;
        var relays = new List<FaultyRelay>();
        try
        {
            var cut = cluster.Memcached[0];
            var memcachedRelay = await FaultyRelay.StartAsync(cut.Host, cut.Port, context.CancellationToken);
            relays.Add(memcachedRelay);
            for (int member = 0; member < cluster.Ensemble!.Count; member++)
                relays.Add(await FaultyRelay.StartAsync("127.0.0.1", cluster.Ensemble.ClientPort(member), context.CancellationToken));
            string[] ring = [memcachedRelay.Endpoint, .. cluster.Memcached.Skip(1).Select(m => m.Endpoint)];
            var placement = KetamaRing.Create(ring.Select(RingNode.Parse));
            var writer = context.OpenClient(memcached: ring);
            var reader = context.OpenClient(zooKeeper: string.Join(',', relays.Skip(1).Select(r => r.Endpoint)), memcached: ring);
            var onCutServer = new List<int>();
            var elsewhere = new List<int>();
            for (int key = FirstProbeKey; onCutServer.Count < 16 || elsewhere.Count < 32; key++)
            {
                placement.TryGetNode(writer.Items.KeyFor(key), out var node);
                (node!.Endpoint == memcachedRelay.Endpoint ? onCutServer : elsewhere).Add(key);
            }
            long readErrors = 0, reads = 0;
            string? firstError = null;
            var setup = new ProbeSetup(writer, reader, elsewhere.Take(32).ToList())
            {
                During = async stop =>
                {
                    for (int i = 0; !stop.IsCancellationRequested; i++)
                    {
                        try
                        {
                            await reader.Items.GetOrLoadAsync(onCutServer[i % 16], (id, _) => ValueTask.FromResult<Item?>(new Item(id, 0, "")), CancellationToken.None);
                            Interlocked.Increment(ref reads);
                        }
                        catch (Exception e)
                        {
                            Interlocked.Increment(ref readErrors);
                            firstError ??= $"{e.GetType().Name}: {e.Message}";
                        }
                        await Task.Delay(5, CancellationToken.None);
                    }
                },
                Verdicts = () =>
                [
                    new Verdict("cut-off service caller exceptions", Interlocked.Read(ref readErrors), 0,
                        $"reads of the cut-off service, of keys on the cut memcached server, that threw ({reads} reads){(firstError is null ? "" : "; first: " + firstError)}"),
                ],
                Figures = () => [new Figure("cut-off service reads of the cut server's keys", ScenarioResult.Number(reads))],
            };
            setup.Owned.AddRange(relays);
            return setup;
        }
        catch
        {
            foreach (var relay in relays)
                await relay.DisposeAsync();
            throw;
        }
    }

    protected override async Task<(long Began, long Healed)> FaultAsync(ScenarioContext context, ProbeSetup setup, ScenarioResult result, Timeline timeline)
    {
        var relays = setup.Owned.Cast<FaultyRelay>().ToList();
        long began = Now();
        foreach (var relay in relays)
        {
            relay.RefuseConnections = true;
            relay.DropConnections();
        }
        result.Mark(timeline, "partition");
        context.Progress.Note("partition: the reader service is cut off from one memcached server and from ZooKeeper");
        await context.UntilAsync(timeline, context.FaultAt * 2);
        foreach (var relay in relays)
            relay.RefuseConnections = false;
        result.Mark(timeline, "healed");
        return (began, Now());
    }
}
