using System.Globalization;

namespace TypedCache.Tests.Cluster;

/// <summary>Deterministic keys for ring tests: ASCII, Latin, CJK and emoji, all valid memcached keys.</summary>
internal static class RingTestKeys
{
    private static readonly string[] Shapes = ["TypedCache:Product:1:{0}", "user:{0}", "caf\u00e9-{0}", "\u5546\u54c1:{0}", "k\u00f8y\u00e6-{0}-\U0001f600", "{0}"];

    public static IReadOnlyList<string> Generate(int count) =>
        Enumerable.Range(0, count)
            .Select(i => string.Format(CultureInfo.InvariantCulture, Shapes[i % Shapes.Length], i))
            .ToArray();
}
