using TypedCache.Cluster;

namespace TypedCache.Tests.Cluster;

public sealed class RingHolderTests
{
    private static readonly RingNode[] Nodes = [new("127.0.0.1", 20001), new("127.0.0.1", 20002), new("127.0.0.1", 20003)];

    [Fact]
    public void Exchange_publishes_the_new_ring_and_returns_the_old_one()
    {
        var first = KetamaRing.Create(Nodes);
        var second = first.Eject(0);
        var holder = new RingHolder(first);

        Assert.Same(first, holder.Exchange(second));
        Assert.Same(second, holder.Current);
    }

    [Fact]
    public async Task Concurrent_updates_never_lose_a_change()
    {
        var nodes = Enumerable.Range(0, 16).Select(i => new RingNode("127.0.0.1", 21000 + i)).ToArray();
        var holder = new RingHolder(KetamaRing.Create(nodes));

        // Two writers eject disjoint halves at the same time; a lost update would leave a node live.
        await Task.WhenAll(
            Task.Run(() => { for (int i = 0; i < 16; i += 2) holder.Update(r => r.Eject(i)); }),
            Task.Run(() => { for (int i = 1; i < 16; i += 2) holder.Update(r => r.Eject(i)); }));

        Assert.Equal(0, holder.Current.LiveCount);
    }

    [Fact]
    public async Task Readers_always_see_a_whole_ring_while_it_is_swapped()
    {
        var a = KetamaRing.Create(Nodes);
        var b = KetamaRing.Create(Nodes.Take(2));
        var holder = new RingHolder(a);
        var keys = RingTestKeys.Generate(200);
        var expectedA = keys.Select(a.GetNodeIndex).ToArray();
        var expectedB = keys.Select(b.GetNodeIndex).ToArray();

        var writer = Task.Run(() =>
        {
            for (int i = 0; i < 2_000; i++)
                holder.Exchange(i % 2 == 0 ? b : a);
        });
        var reader = Task.Run(() =>
        {
            int mismatches = 0;
            while (!writer.IsCompleted)
            {
                var ring = holder.Current;
                var expected = ReferenceEquals(ring, a) ? expectedA : expectedB;
                for (int k = 0; k < keys.Count; k++)
                    mismatches += ring.GetNodeIndex(keys[k]) == expected[k] ? 0 : 1;
            }

            return mismatches;
        });

        await writer;
        Assert.Equal(0, await reader);
        Assert.Same(a, holder.Current);
    }

    [Fact]
    public void Update_rejects_a_null_result()
    {
        var holder = new RingHolder(KetamaRing.Create(Nodes));

        Assert.Throws<InvalidOperationException>(() => holder.Update(_ => null!));
    }
}
