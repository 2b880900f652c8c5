using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace TypedCache.Cluster;

/// <summary>
/// An immutable weighted ketama ring that places keys exactly as libmemcached 1.1.4
/// (<c>ketama_weighted</c>) or twemproxy 0.5 (<c>distribution: ketama</c>) does, per
/// <see cref="RingCompatibility"/>. Lookups allocate nothing and are safe from any thread; membership
/// changes and ejections build a new ring, which a <see cref="RingHolder"/> publishes atomically.
/// </summary>
/// <remarks>
/// Node indexes always refer to <see cref="Nodes"/>, the full configured list: an ejected node keeps its
/// index and only loses its points, as in libmemcached's and twemproxy's auto-ejection, so per-node state
/// kept by index stays valid across <see cref="Eject"/> and <see cref="Restore"/>.
/// </remarks>
internal sealed class KetamaRing
{
    private const int PointsPerServer = 160;
    private const int PointsPerDigest = 4;

    // twemproxy formats point names into an 86-byte buffer (KETAMA_MAX_HOSTLEN) and hashes the untruncated
    // length past its end; a longer name has no defined placement there.
    private const int TwemproxyMaxPointNameBytes = 85;

    private const int StackKeyBytes = 512;

    // Each point is (value << 32) | nodeIndex, sorted ascending: by value as unsigned, ties in server-list
    // order, which is libmemcached's comparator. One array keeps the binary search in one cache stream.
    private readonly ulong[] _points;
    private readonly int[] _pointCounts;
    private readonly ImmutableArray<bool> _live;

    private KetamaRing(ImmutableArray<RingNode> nodes, ImmutableArray<bool> live, RingCompatibility compatibility)
    {
        Nodes = nodes;
        _live = live;
        Compatibility = compatibility;
        (_points, _pointCounts) = BuildPoints(nodes, live, compatibility);
        LiveCount = live.Count(static l => l);
    }

    /// <summary>What this ring is key-compatible with.</summary>
    public RingCompatibility Compatibility { get; }

    /// <summary>Every configured node in configuration order, ejected ones included.</summary>
    public ImmutableArray<RingNode> Nodes { get; }

    /// <summary>How many nodes are not ejected.</summary>
    public int LiveCount { get; }

    /// <summary>How many points the ring holds (about 160 per live node).</summary>
    public int PointCount => _points.Length;

    /// <summary>
    /// Builds a ring in which every node is live.
    /// </summary>
    /// <exception cref="ArgumentException">Two nodes have the same point name (same host and port, or same
    /// twemproxy name), a libmemcached ring was given a server name, or a twemproxy point name is longer
    /// than twemproxy can hash.</exception>
    public static KetamaRing Create(IEnumerable<RingNode> nodes, RingCompatibility compatibility = RingCompatibility.LibmemcachedWeighted)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (!Enum.IsDefined(compatibility))
            throw new ArgumentOutOfRangeException(nameof(compatibility), compatibility, "Unknown ring compatibility.");

        var list = nodes.ToImmutableArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in list)
        {
            ArgumentNullException.ThrowIfNull(node, nameof(nodes));
            if (node.Name is not null && compatibility == RingCompatibility.LibmemcachedWeighted)
                throw new ArgumentException($"Ring node {node.Endpoint} has the name '{node.Name}', but libmemcached rings have no server names.", nameof(nodes));
            string name = GetPointName(node, compatibility);
            if (!names.Add(name))
                throw new ArgumentException($"Two ring nodes have the point name '{name}' ({node.Endpoint}); each node must appear once.", nameof(nodes));
            // A node has at most 40 digests per live node, so its longest point name ends in that many's digits.
            if (compatibility != RingCompatibility.LibmemcachedWeighted
                && Encoding.UTF8.GetByteCount(name) + 1 + CountDigits(40 * list.Length) > TwemproxyMaxPointNameBytes)
                throw new ArgumentException($"Ring node point name '{name}' is too long for twemproxy, which hashes point names of at most {TwemproxyMaxPointNameBytes} bytes.", nameof(nodes));
        }

        return new KetamaRing(list, Enumerable.Repeat(true, list.Length).ToImmutableArray(), compatibility);
    }

    /// <summary>
    /// The string a node's points are derived from: libmemcached uses <c>host</c> on port 11211 and
    /// <c>host:port</c> otherwise; twemproxy does the same unless the node has a name, which it uses instead.
    /// Point <c>i</c> is hashed from this name followed by <c>-i</c>.
    /// </summary>
    public static string GetPointName(RingNode node, RingCompatibility compatibility)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Name is not null && compatibility != RingCompatibility.LibmemcachedWeighted)
            return node.Name;
        return node.Port == RingNode.DefaultPort
            ? node.Host
            : string.Create(CultureInfo.InvariantCulture, $"{node.Host}:{node.Port}");
    }

    /// <summary>Whether the node at <paramref name="nodeIndex"/> has points on this ring.</summary>
    public bool IsLive(int nodeIndex) => _live[nodeIndex];

    /// <summary>How many points the node at <paramref name="nodeIndex"/> has (0 when ejected).</summary>
    public int GetPointCount(int nodeIndex) => _pointCounts[nodeIndex];

    /// <summary>The point at <paramref name="position"/> in ascending order of value.</summary>
    public RingPoint GetPoint(int position)
    {
        ulong point = _points[position];
        return new RingPoint((uint)(point >> 32), (int)(uint)point);
    }

    /// <summary>
    /// The fraction of the 32-bit hash space whose keys the node at <paramref name="nodeIndex"/> owns
    /// (0 when ejected); the shares of all nodes add up to 1 on a ring with any live node.
    /// Takes time in proportion to <see cref="PointCount"/>: for tools, not for the request path.
    /// </summary>
    public double GetKeyspaceShare(int nodeIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(nodeIndex, Nodes.Length);
        long owned = 0;
        uint previous = _points.Length == 0 ? 0 : (uint)(_points[^1] >> 32);
        foreach (ulong point in _points)
        {
            uint value = (uint)(point >> 32);
            // The arc (previous, value] belongs to this point; the first arc wraps around from the last point.
            if ((int)(uint)point == nodeIndex)
                owned += (uint)(value - previous);
            previous = value;
        }

        return owned / 4294967296.0;
    }

    /// <summary>
    /// A ring with the same nodes in which the node at <paramref name="nodeIndex"/> has no points; the
    /// other nodes' points are recomputed from the live nodes' weights, as libmemcached's
    /// <c>REMOVE_FAILED_SERVERS</c> and twemproxy's <c>auto_eject_hosts</c> do. With equal weights only the
    /// ejected node's keys move; with unequal weights the survivors' point counts are rescaled too, so some
    /// keys also move between them, exactly as in those peers. Returns this ring when the node is already
    /// ejected.
    /// </summary>
    public KetamaRing Eject(int nodeIndex) => WithLive(nodeIndex, false);

    /// <summary>The reverse of <see cref="Eject"/>. Returns this ring when the node is already live.</summary>
    public KetamaRing Restore(int nodeIndex) => WithLive(nodeIndex, true);

    /// <summary>
    /// The 32-bit hash that places <paramref name="key"/>: the first four bytes of its MD5 digest as a
    /// little-endian integer, or twemproxy's 32-bit signed-char FNV-1a. twemproxy hashes an empty key to 0.
    /// </summary>
    public uint HashKey(ReadOnlySpan<byte> key)
    {
        switch (Compatibility)
        {
            case RingCompatibility.LibmemcachedWeighted:
                return Md5.Hash(key).A;
            case RingCompatibility.TwemproxyMd5:
                return key.IsEmpty ? 0 : Md5.Hash(key).A;
            default:
                return key.IsEmpty ? 0 : TwemproxyFnv1a64(key);
        }
    }

    /// <summary>
    /// The index in <see cref="Nodes"/> of the node that owns <paramref name="key"/>, or -1 when no node is
    /// live. Allocates nothing.
    /// </summary>
    public int GetNodeIndex(ReadOnlySpan<byte> key) => _points.Length == 0 ? -1 : GetNodeIndexForHash(HashKey(key));

    /// <summary>
    /// The index in <see cref="Nodes"/> of the node that owns the UTF-8 bytes of <paramref name="key"/>, or
    /// -1 when no node is live. Lone surrogates are encoded as U+FFFD. Allocates nothing.
    /// </summary>
    public int GetNodeIndex(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int length = Encoding.UTF8.GetByteCount(key);
        if (length <= StackKeyBytes)
        {
            Span<byte> bytes = stackalloc byte[StackKeyBytes];
            return GetNodeIndex(bytes[..Encoding.UTF8.GetBytes(key, bytes)]);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            return GetNodeIndex(rented.AsSpan(0, Encoding.UTF8.GetBytes(key, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The node that owns <paramref name="key"/>; false when no node is live.</summary>
    public bool TryGetNode(ReadOnlySpan<byte> key, [NotNullWhen(true)] out RingNode? node) => TryGetNode(GetNodeIndex(key), out node);

    /// <summary>The node that owns the UTF-8 bytes of <paramref name="key"/>; false when no node is live.</summary>
    public bool TryGetNode(string key, [NotNullWhen(true)] out RingNode? node) => TryGetNode(GetNodeIndex(key), out node);

    /// <summary>
    /// The node index of the first point whose value is at least <paramref name="hash"/>, wrapping to the
    /// smallest point; -1 when no node is live.
    /// </summary>
    public int GetNodeIndexForHash(uint hash)
    {
        ulong[] points = _points;
        if (points.Length == 0)
            return -1;

        ulong target = (ulong)hash << 32;
        int low = 0;
        int high = points.Length;
        while (low < high)
        {
            int middle = (int)((uint)(low + high) >> 1);
            if (points[middle] < target)
                low = middle + 1;
            else
                high = middle;
        }

        return (int)(uint)points[low == points.Length ? 0 : low];
    }

    private bool TryGetNode(int index, [NotNullWhen(true)] out RingNode? node)
    {
        node = index < 0 ? null : Nodes[index];
        return node is not null;
    }

    private KetamaRing WithLive(int nodeIndex, bool live)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(nodeIndex, Nodes.Length);
        return _live[nodeIndex] == live ? this : new KetamaRing(Nodes, _live.SetItem(nodeIndex, live), Compatibility);
    }

    private static (ulong[] Points, int[] PointCounts) BuildPoints(ImmutableArray<RingNode> nodes, ImmutableArray<bool> live, RingCompatibility compatibility)
    {
        var counts = new int[nodes.Length];
        int liveCount = 0;
        long totalWeight = 0;
        for (int i = 0; i < nodes.Length; i++)
        {
            if (!live[i])
                continue;
            liveCount++;
            totalWeight += nodes[i].Weight;
        }

        for (int i = 0; i < nodes.Length; i++)
        {
            if (!live[i])
                continue;
            // Single precision at every step, as the C code computes it: double arithmetic gives other counts
            // at some weights (1,1,1,10,12 gives 28 points to a weight-1 node in float, 32 in double).
            float share = (float)nodes[i].Weight / (float)totalWeight;
            float groups = (float)((float)((float)(share * PointsPerServer) / PointsPerDigest) * (float)liveCount);
            counts[i] = (int)MathF.Floor((float)(groups + 0.0000000001f)) * PointsPerDigest;
        }

        var points = new ulong[counts.Sum()];
        int next = 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            for (int i = 0; i < nodes.Length; i++)
            {
                if (counts[i] == 0)
                    continue;
                string name = GetPointName(nodes[i], compatibility);
                int prefix = Encoding.UTF8.GetBytes(name, buffer);
                buffer[prefix] = (byte)'-';
                for (int group = 0; group < counts[i] / PointsPerDigest; group++)
                {
                    group.TryFormat(buffer.AsSpan(prefix + 1), out int digits, provider: CultureInfo.InvariantCulture);
                    var digest = Md5.Hash(buffer.AsSpan(0, prefix + 1 + digits));
                    points[next++] = ((ulong)digest.A << 32) | (uint)i;
                    points[next++] = ((ulong)digest.B << 32) | (uint)i;
                    points[next++] = ((ulong)digest.C << 32) | (uint)i;
                    points[next++] = ((ulong)digest.D << 32) | (uint)i;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        Array.Sort(points);
        return (points, counts);
    }

    private static int CountDigits(int value) => value < 10 ? 1 : 1 + CountDigits(value / 10);

    private static uint TwemproxyFnv1a64(ReadOnlySpan<byte> key)
    {
        // twemproxy's fnv1a_64 truncates the 64-bit offset basis and prime to 32 bits and widens each key
        // byte from a signed char, so bytes >= 0x80 are XORed in as 0xFFFFFFxx.
        uint hash = 0x84222325;
        foreach (byte b in key)
        {
            hash ^= (uint)(sbyte)b;
            hash *= 0x000001b3;
        }

        return hash;
    }
}
