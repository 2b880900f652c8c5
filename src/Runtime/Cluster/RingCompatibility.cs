namespace TypedCache.Cluster;

/// <summary>
/// Which client or proxy the consistent-hash ring places keys exactly like. The choice decides the key
/// hash and how a server is named in the ring; rings of different compatibilities place keys differently,
/// so every application that shares a memcached cluster must name the same one.
/// </summary>
public enum RingCompatibility
{
    /// <summary>
    /// libmemcached 1.1.4 with <c>MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED</c> (pylibmc's <c>ketama_weighted</c>):
    /// MD5 of the key; servers are named <c>host</c> on port 11211 and <c>host:port</c> otherwise.
    /// The default.
    /// </summary>
    LibmemcachedWeighted = 0,

    /// <summary>
    /// twemproxy (nutcracker) 0.5 with <c>distribution: ketama</c> and <c>hash: md5</c>. Without server
    /// names it places keys exactly like <see cref="LibmemcachedWeighted"/>; a server given a name in
    /// twemproxy's <c>host:port:weight name</c> form is placed by that name instead.
    /// </summary>
    TwemproxyMd5 = 1,

    /// <summary>
    /// twemproxy (nutcracker) 0.5 with <c>distribution: ketama</c> and <c>hash: fnv1a_64</c>, twemproxy's
    /// default hash: despite its name a 32-bit FNV-1a over the key's bytes taken as signed chars.
    /// Server naming as in <see cref="TwemproxyMd5"/>.
    /// </summary>
    TwemproxyFnv1a64 = 2,
}
