using System.Globalization;
using TypedCache.Coordination;
using TypedCache.ZooKeeper;

namespace TypedCache.TestWorker;

/// <summary>
/// <c>lock-contend --zookeeper CS --root R --lock DIR --contenders N --iterations M --counter FILE --marker FILE</c>:
/// N contenders, each with its own session, take the lock M times each. Under the lock a holder creates the marker
/// file exclusively (it exists only if another holder is inside), reads <c>count token</c> from the counter file,
/// checks its fencing token is larger, writes <c>count+1 token</c>, and deletes the marker.
/// </summary>
internal static class LockContend
{
    public static async Task RunAsync(WorkerArguments args)
    {
        string connect = args.Get("zookeeper");
        string rootPath = args.Get("root");
        string directory = args.Get("lock");
        string counter = args.Get("counter");
        string marker = args.Get("marker");
        int iterations = args.GetInt("iterations");
        await Task.WhenAll(Enumerable.Range(0, args.GetInt("contenders")).Select(async _ =>
        {
            await using ZooKeeperClient client = await ZooKeeperClient.ConnectAsync(new ZooKeeperClientOptions { ConnectString = connect }).ConfigureAwait(false);
            CoordinationRoot root = await CoordinationRoot.OpenAsync(client, rootPath).ConfigureAwait(false);
            for (int i = 0; i < iterations; i++)
            {
                LockHandle held = await DistributedLock.AcquireAsync(root, directory, TimeSpan.FromSeconds(60), "worker", CancellationToken.None).ConfigureAwait(false);
                await using (held.ConfigureAwait(false))
                {
                    CriticalSection(counter, marker, held.FencingToken);
                }
            }
        })).ConfigureAwait(false);
    }

    private static void CriticalSection(string counter, string marker, long token)
    {
        using (new FileStream(marker, FileMode.CreateNew, FileAccess.Write))
        {
        }

        string[] parts = File.Exists(counter) ? File.ReadAllText(counter).Split(' ') : ["0", "0"];
        long count = long.Parse(parts[0], CultureInfo.InvariantCulture);
        long last = long.Parse(parts[1], CultureInfo.InvariantCulture);
        if (token <= last)
        {
            throw new InvalidOperationException($"Fencing token {token} is not above the previous holder's {last}.");
        }

        File.WriteAllText(counter, string.Create(CultureInfo.InvariantCulture, $"{count + 1} {token}"));
        File.Delete(marker);
    }
}
