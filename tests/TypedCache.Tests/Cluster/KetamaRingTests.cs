using System.Security.Cryptography;
using System.Text;
using CsCheck;
using TypedCache.Cluster;

namespace TypedCache.Tests.Cluster;

public sealed class KetamaRingTests
{
    // protocols.md §32.1 test vectors: index 0 = 10.0.0.1:11211 w1, 1 = 10.0.0.2:11211 w1, 2 = 10.0.0.3:11212 w2.
    private static readonly RingNode[] VectorNodes =
    [
        new("10.0.0.1", 11211, 1),
        new("10.0.0.2", 11211, 1),
        new("10.0.0.3", 11212, 2),
    ];

    public static TheoryData<string, uint, int, uint, int> KeyVectors => new()
    {
        { "foo", 0xdb18bdac, 1, 0xfed9d577, 2 },
        { "bar", 0x191db537, 1, 0x1339461a, 2 },
        { "baz", 0xa4fffe73, 0, 0x13393882, 2 },
        { "user:42", 0x18dfda56, 1, 0xdcd221c2, 0 },
        { "user:43", 0x7b6bb398, 2, 0xdcd22375, 0 },
        { "TypedCache:Product:1:42", 0x21070ec3, 1, 0x66e04dd1, 1 },
        { "hello world", 0xbb3bb65e, 0, 0x023cd2e7, 1 },
        { "key-1", 0x8b6baf21, 2, 0x95f27ea6, 0 },
        { "key-2", 0x8c52cabc, 0, 0x95f27cf3, 0 },
    };

    [Theory]
    [MemberData(nameof(KeyVectors))]
    public void Vector_keys_hash_and_land_as_in_the_reference(string key, uint md5Hash, int md5Server, uint fnvHash, int fnvServer)
    {
        var libmemcached = KetamaRing.Create(VectorNodes, RingCompatibility.LibmemcachedWeighted);
        var twemproxyMd5 = KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyMd5);
        var twemproxyFnv = KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyFnv1a64);
        byte[] bytes = Encoding.UTF8.GetBytes(key);

        Assert.Equal(md5Hash, libmemcached.HashKey(bytes));
        Assert.Equal(md5Server, libmemcached.GetNodeIndex(bytes));
        Assert.Equal(md5Server, libmemcached.GetNodeIndex(key));
        Assert.Equal(md5Hash, twemproxyMd5.HashKey(bytes));
        Assert.Equal(md5Server, twemproxyMd5.GetNodeIndex(bytes));
        Assert.Equal(fnvHash, twemproxyFnv.HashKey(bytes));
        Assert.Equal(fnvServer, twemproxyFnv.GetNodeIndex(bytes));
        Assert.Equal(fnvServer, twemproxyFnv.GetNodeIndex(key));
    }

    [Theory]
    [InlineData(RingCompatibility.LibmemcachedWeighted)]
    [InlineData(RingCompatibility.TwemproxyMd5)]
    [InlineData(RingCompatibility.TwemproxyFnv1a64)]
    public void Vector_ring_has_the_reference_points(RingCompatibility compatibility)
    {
        var ring = KetamaRing.Create(VectorNodes, compatibility);

        Assert.Equal([120, 120, 240], Enumerable.Range(0, 3).Select(ring.GetPointCount));
        Assert.Equal(480, ring.PointCount);
        Assert.Equal(new RingPoint(0x0038906b, 2), ring.GetPoint(0));
        Assert.Equal(new RingPoint(0xfe10c40b, 0), ring.GetPoint(ring.PointCount - 1));
        var points = Enumerable.Range(0, ring.PointCount).Select(ring.GetPoint).ToHashSet();
        Assert.Superset(new HashSet<RingPoint> { new(0x2194783c, 0), new(0x36d6a85b, 0), new(0xf1edf592, 0), new(0x40a9b8cf, 0) }, points);
        Assert.Superset(new HashSet<RingPoint> { new(0x0038906b, 2), new(0x901937a6, 2), new(0x4b190c65, 2), new(0x2e809329, 2) }, points);
        Assert.True(Enumerable.Range(1, ring.PointCount - 1).All(i => ring.GetPoint(i - 1).Value <= ring.GetPoint(i).Value));
    }

    [Fact]
    public void Lookup_takes_the_first_point_at_or_above_the_hash_and_wraps_past_the_largest()
    {
        var ring = KetamaRing.Create(VectorNodes);

        Assert.Equal(2, ring.GetNodeIndexForHash(0));
        Assert.Equal(2, ring.GetNodeIndexForHash(0x0038906b));
        Assert.Equal(ring.GetPoint(1).NodeIndex, ring.GetNodeIndexForHash(0x0038906c));
        Assert.Equal(0, ring.GetNodeIndexForHash(0xfe10c40b));
        Assert.Equal(2, ring.GetNodeIndexForHash(0xfe10c40c));
        Assert.Equal(2, ring.GetNodeIndexForHash(uint.MaxValue));
    }

    [Theory]
    [InlineData(new[] { 1, 1, 1 }, new[] { 160, 160, 160 })]
    [InlineData(new[] { 1, 2, 5, 3 }, new[] { 56, 116, 288, 172 })]
    // Single precision matters here: 1/25 * 160 / 4 * 5 is 7.9999995f, so a weight-1 node gets 28 points, not 32.
    [InlineData(new[] { 1, 1, 1, 10, 12 }, new[] { 28, 28, 28, 320, 380 })]
    [InlineData(new[] { 7 }, new[] { 160 })]
    public void Points_per_node_follow_the_single_precision_formula(int[] weights, int[] expected)
    {
        var ring = KetamaRing.Create(weights.Select((w, i) => new RingNode($"127.0.0.{i + 1}", 11211, w)));

        Assert.Equal(expected, Enumerable.Range(0, weights.Length).Select(ring.GetPointCount));
        Assert.Equal(expected.Sum(), ring.PointCount);
    }

    [Theory]
    [InlineData("10.0.0.1", 11211, null, RingCompatibility.LibmemcachedWeighted, "10.0.0.1")]
    [InlineData("10.0.0.1", 11212, null, RingCompatibility.LibmemcachedWeighted, "10.0.0.1:11212")]
    [InlineData("cache-a.example", 11211, null, RingCompatibility.TwemproxyFnv1a64, "cache-a.example")]
    [InlineData("10.0.0.1", 21212, null, RingCompatibility.TwemproxyMd5, "10.0.0.1:21212")]
    [InlineData("10.0.0.1", 21212, "alpha", RingCompatibility.TwemproxyMd5, "alpha")]
    [InlineData("::1", 11212, null, RingCompatibility.LibmemcachedWeighted, "::1:11212")]
    public void Point_names_follow_each_implementation(string host, int port, string? name, RingCompatibility compatibility, string expected)
    {
        Assert.Equal(expected, KetamaRing.GetPointName(new RingNode(host, port, 1, name), compatibility));
    }

    [Fact]
    public void Point_values_are_the_little_endian_words_of_the_md5_of_each_point_name()
    {
        var ring = KetamaRing.Create([new RingNode("cache-a", 11311, 1, "alpha")], RingCompatibility.TwemproxyMd5);
        var expected = new List<uint>();
        for (int i = 0; i < 40; i++)
        {
            byte[] digest = MD5.HashData(Encoding.ASCII.GetBytes($"alpha-{i}"));
            for (int k = 0; k < 4; k++)
                expected.Add(BitConverter.ToUInt32(digest, 4 * k));
        }

        expected.Sort();
        Assert.Equal(expected, Enumerable.Range(0, ring.PointCount).Select(i => ring.GetPoint(i).Value));
    }

    [Fact]
    public void Naming_the_default_port_explicitly_is_a_different_ring()
    {
        // A ring whose point names wrongly kept ":11211" is another ring: here two nodes' points all move.
        var right = KetamaRing.Create(VectorNodes);
        var wrong = KetamaRing.Create(VectorNodes.Select(n => new RingNode(n.Host, n.Port, n.Weight, n.Port == 11211 ? n.Endpoint : null)),
            RingCompatibility.TwemproxyMd5);
        var keys = RingTestKeys.Generate(10_000);

        int moved = keys.Count(k => right.GetNodeIndex(k) != wrong.GetNodeIndex(k));

        Assert.InRange(moved, 2_000, 8_000);
    }

    [Fact]
    public void Fnv_hash_widens_bytes_as_signed_chars()
    {
        var ring = KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyFnv1a64);
        byte[] key = "caf\u00e9"u8.ToArray();
        uint signed = 0x84222325;
        uint unsigned = 0x84222325;
        foreach (byte b in key)
        {
            signed = (signed ^ (uint)(sbyte)b) * 0x1b3;
            unsigned = (unsigned ^ b) * 0x1b3;
        }

        Assert.NotEqual(unsigned, signed);
        Assert.Equal(signed, ring.HashKey(key));
    }

    [Fact]
    public void Twemproxy_hashes_the_empty_key_to_zero_and_libmemcached_hashes_its_md5()
    {
        Assert.Equal(0u, KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyMd5).HashKey([]));
        Assert.Equal(0u, KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyFnv1a64).HashKey([]));
        Assert.Equal(BitConverter.ToUInt32(MD5.HashData(Array.Empty<byte>())), KetamaRing.Create(VectorNodes).HashKey([]));
    }

    [Theory]
    [InlineData(RingCompatibility.LibmemcachedWeighted)]
    [InlineData(RingCompatibility.TwemproxyFnv1a64)]
    public void String_and_byte_lookups_agree_for_non_ascii_and_long_keys(RingCompatibility compatibility)
    {
        var ring = KetamaRing.Create(VectorNodes, compatibility);
        var keys = RingTestKeys.Generate(2_000).Append(new string('\u00e9', 400)).Append(new string('x', 5_000));

        foreach (string key in keys)
            Assert.Equal(ring.GetNodeIndex(Encoding.UTF8.GetBytes(key)), ring.GetNodeIndex(key));
    }

    [Fact]
    public void Lookups_allocate_nothing()
    {
        var ring = KetamaRing.Create(VectorNodes);
        var fnv = KetamaRing.Create(VectorNodes, RingCompatibility.TwemproxyFnv1a64);
        byte[] bytes = "TypedCache:Product:1:42"u8.ToArray();
        const string text = "TypedCache:Product:1:caf\u00e9";
        int sum = ring.GetNodeIndex(bytes) + ring.GetNodeIndex(text) + fnv.GetNodeIndex(bytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            sum += ring.GetNodeIndex(bytes) + ring.GetNodeIndex(text) + fnv.GetNodeIndex(bytes);
            sum += ring.TryGetNode(bytes, out var node) ? node.Port : 0;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, sum);
    }

    [Theory]
    [InlineData(5, RingCompatibility.LibmemcachedWeighted)]
    [InlineData(10, RingCompatibility.TwemproxyFnv1a64)]
    public void Removing_one_of_n_nodes_moves_about_one_nth_of_keys_and_only_that_nodes_keys(int n, RingCompatibility compatibility)
    {
        var nodes = Enumerable.Range(0, n).Select(i => new RingNode("127.0.0.1", 20000 + i)).ToArray();
        var full = KetamaRing.Create(nodes, compatibility);
        var removed = nodes[n / 2];
        var smaller = KetamaRing.Create(nodes.Where(node => node != removed), compatibility);
        var keys = RingTestKeys.Generate(20_000);

        int moved = 0;
        foreach (string key in keys)
        {
            Assert.True(full.TryGetNode(key, out var before));
            Assert.True(smaller.TryGetNode(key, out var after));
            if (before == after)
                continue;
            Assert.Equal(removed, before);
            moved++;
        }

        double expected = keys.Count / (double)n;
        Assert.InRange(moved, expected * 0.8, expected * 1.2);
    }

    [Fact]
    public void Ejecting_a_node_equals_rebuilding_without_it_and_keeps_node_indexes()
    {
        var nodes = new[] { new RingNode("127.0.0.1", 20001, 1), new RingNode("127.0.0.1", 20002, 3), new RingNode("127.0.0.1", 20003, 2) };
        var full = KetamaRing.Create(nodes, RingCompatibility.TwemproxyMd5);
        var ejected = full.Eject(1);
        var rebuilt = KetamaRing.Create([nodes[0], nodes[2]], RingCompatibility.TwemproxyMd5);

        Assert.Equal(nodes, ejected.Nodes);
        Assert.False(ejected.IsLive(1));
        Assert.Equal(2, ejected.LiveCount);
        Assert.Equal(0, ejected.GetPointCount(1));
        Assert.Equal(rebuilt.PointCount, ejected.PointCount);
        foreach (string key in RingTestKeys.Generate(5_000))
        {
            Assert.True(ejected.TryGetNode(key, out var a));
            Assert.True(rebuilt.TryGetNode(key, out var b));
            Assert.Equal(b, a);
        }

        Assert.Same(ejected, ejected.Eject(1));
        var restored = ejected.Restore(1);
        Assert.True(restored.IsLive(1));
        Assert.Equal(Enumerable.Range(0, full.PointCount).Select(full.GetPoint), Enumerable.Range(0, restored.PointCount).Select(restored.GetPoint));
    }

    [Fact]
    public void Ejecting_from_an_equally_weighted_ring_moves_only_the_ejected_nodes_keys_for_any_nodes()
    {
        var keys = RingTestKeys.Generate(1_000);
        var gen = from n in Gen.Int[2, 12]
                  from ports in Gen.Int[1, 65535].Array[n]
                  from ejected in Gen.Int[0, n - 1]
                  select (Nodes: ports.Distinct().Select(p => new RingNode("127.0.0.1", p)).ToArray(), Ejected: ejected);

        gen.Where(c => c.Ejected < c.Nodes.Length).Sample(c =>
        {
            var ring = KetamaRing.Create(c.Nodes);
            var ejected = ring.Eject(c.Ejected);
            return keys.All(k => ring.GetNodeIndex(k) == c.Ejected
                ? ejected.GetNodeIndex(k) != c.Ejected
                : ejected.GetNodeIndex(k) == ring.GetNodeIndex(k));
        }, iter: 40);
    }

    [Fact]
    public void Ejecting_from_an_unequally_weighted_ring_also_moves_keys_between_survivors_as_the_peers_do()
    {
        // Weights 1,1,2 give 30,30,60 digests; without the weight-2 node the others get 40 each, and their
        // 10 new digests take keys from each other. libmemcached and twemproxy rescale the same way.
        var ring = KetamaRing.Create([new RingNode("127.0.0.1", 20001, 1), new RingNode("127.0.0.1", 20002, 1), new RingNode("127.0.0.1", 20003, 2)]);
        var ejected = ring.Eject(2);
        var keys = RingTestKeys.Generate(10_000);

        int survivorsMoved = keys.Count(k => ring.GetNodeIndex(k) != 2 && ejected.GetNodeIndex(k) != ring.GetNodeIndex(k));

        Assert.Equal([160, 160, 0], Enumerable.Range(0, 3).Select(ejected.GetPointCount));
        Assert.InRange(survivorsMoved, 100, 2_500);
    }

    [Fact]
    public void A_ring_without_live_nodes_finds_no_node()
    {
        var empty = KetamaRing.Create([]);
        var allEjected = KetamaRing.Create(VectorNodes).Eject(0).Eject(1).Eject(2);

        foreach (var ring in new[] { empty, allEjected })
        {
            Assert.Equal(0, ring.PointCount);
            Assert.Equal(-1, ring.GetNodeIndex("foo"));
            Assert.Equal(-1, ring.GetNodeIndexForHash(0));
            Assert.False(ring.TryGetNode("foo"u8, out var node));
            Assert.Null(node);
        }

        Assert.Equal(0, allEjected.LiveCount);
        Assert.Equal(0.0, allEjected.GetKeyspaceShare(0));
    }

    [Fact]
    public void Keyspace_shares_add_up_to_one_and_follow_weights()
    {
        var ring = KetamaRing.Create(VectorNodes);
        var shares = Enumerable.Range(0, 3).Select(ring.GetKeyspaceShare).ToArray();
        var keys = RingTestKeys.Generate(20_000);
        var counted = new int[3];
        foreach (string key in keys)
            counted[ring.GetNodeIndex(key)]++;

        Assert.Equal(1.0, shares.Sum(), 9);
        Assert.InRange(shares[2], 0.4, 0.6);
        for (int i = 0; i < 3; i++)
            Assert.InRange(counted[i] / (double)keys.Count, shares[i] - 0.02, shares[i] + 0.02);
        Assert.Equal(0.0, ring.Eject(2).GetKeyspaceShare(2));
        Assert.Equal(1.0, KetamaRing.Create([VectorNodes[0]]).GetKeyspaceShare(0), 9);
    }

    [Fact]
    public void Bad_node_lists_are_rejected_with_the_reason()
    {
        var duplicate = Assert.Throws<ArgumentException>(() => KetamaRing.Create([new RingNode("10.0.0.1"), new RingNode("10.0.0.1", 11211, 3)]));
        Assert.Contains("'10.0.0.1'", duplicate.Message, StringComparison.Ordinal);

        var sameName = Assert.Throws<ArgumentException>(() => KetamaRing.Create(
            [new RingNode("10.0.0.1", 11211, 1, "a"), new RingNode("10.0.0.2", 11211, 1, "a")], RingCompatibility.TwemproxyMd5));
        Assert.Contains("'a'", sameName.Message, StringComparison.Ordinal);

        var named = Assert.Throws<ArgumentException>(() => KetamaRing.Create([new RingNode("10.0.0.1", 11211, 1, "a")]));
        Assert.Contains("libmemcached", named.Message, StringComparison.Ordinal);

        var longName = new string('h', 80);
        var tooLong = Assert.Throws<ArgumentException>(() => KetamaRing.Create([new RingNode(longName, 11212)], RingCompatibility.TwemproxyFnv1a64));
        Assert.Contains("twemproxy", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal(160, KetamaRing.Create([new RingNode(longName, 11212)]).PointCount);

        Assert.Throws<ArgumentOutOfRangeException>(() => KetamaRing.Create(VectorNodes, (RingCompatibility)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => KetamaRing.Create(VectorNodes).Eject(3));
    }

    [Theory]
    [InlineData("", 11211, 1, null)]
    [InlineData("a b", 11211, 1, null)]
    [InlineData("10.0.0.1", 0, 1, null)]
    [InlineData("10.0.0.1", 65536, 1, null)]
    [InlineData("10.0.0.1", 11211, 0, null)]
    [InlineData("10.0.0.1", 11211, 1, "")]
    [InlineData("10.0.0.1", 11211, 1, "two words")]
    public void Bad_nodes_are_rejected(string host, int port, int weight, string? name)
    {
        Assert.ThrowsAny<ArgumentException>(() => new RingNode(host, port, weight, name));
    }

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.1", 11211, 1, "10.0.0.1:11211")]
    [InlineData("cache-a:11212", "cache-a", 11212, 1, "cache-a:11212")]
    [InlineData("cache-a:11212:3", "cache-a", 11212, 3, "cache-a:11212")]
    [InlineData("[::1]", "::1", 11211, 1, "[::1]:11211")]
    [InlineData("[::1]:11300:2", "::1", 11300, 2, "[::1]:11300")]
    public void Nodes_parse_from_host_port_weight(string text, string host, int port, int weight, string endpoint)
    {
        var node = RingNode.Parse(text);

        Assert.Equal(new RingNode(host, port, weight), node);
        Assert.Equal(endpoint, node.Endpoint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cache-a:")]
    [InlineData("cache-a:port")]
    [InlineData("cache-a:11211:heavy")]
    [InlineData("cache-a:11211:0")]
    [InlineData("cache-a:70000")]
    [InlineData("::1:11211")]
    [InlineData("[::1")]
    [InlineData("[::1]11211")]
    [InlineData("[::1]:")]
    public void Bad_node_text_is_rejected_with_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => RingNode.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }
}
