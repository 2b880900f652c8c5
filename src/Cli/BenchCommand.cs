using System.CommandLine;
using TypedCache.Load;

namespace TypedCache.Cli;

/// <summary>
/// <c>bench</c>: the load and chaos tool (bench/TypedCache.Load), run in this process. Without <c>--zookeeper</c> it
/// starts its own servers; with it (and <c>--memcached</c>) it uses the given ones.
/// </summary>
internal static class BenchCommand
{
    public static Command Create() =>
        BenchCommandLine.Create(
            "bench",
            result => ([.. (result.GetValue(CommonOptions.Memcached) ?? []).Select(n => n.Endpoint)], result.GetValue(CommonOptions.ZooKeeper)),
            CommonOptions.ParseDuration);
}
