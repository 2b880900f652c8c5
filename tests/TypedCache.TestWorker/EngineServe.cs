using System.Globalization;

namespace TypedCache.TestWorker;

/// <summary>
/// <c>engine-serve --memcached HOST:PORT --zookeeper CS --prefix P</c>: runs an <see cref="EngineCache"/> on memcached
/// and ZooKeeper (root <c>/typedcache/P</c>) and answers one command per stdin line with one stdout line, until
/// <c>exit</c> or the end of stdin. Times are <see cref="DateTime.UtcNow"/> ticks, comparable across processes.
/// </summary>
/// <remarks>
/// Commands: <c>get ID</c> → <c>value NAME REV</c> | <c>null</c>; <c>load ID NAME</c> → <c>value NAME REV</c>;
/// <c>stampede ID N DELAYMS</c> (N concurrent loads, the loader taking DELAYMS) → <c>calls C</c>;
/// <c>set ID NAME REV</c>, <c>invalidate ID</c>, <c>invalidate-all</c>, <c>invalidate-tag TAG</c> → <c>done TICKS</c>
/// (the time the call started); <c>wait-null ID TIMEOUTMS</c> (polls <c>get</c>) → <c>null TICKS</c> | <c>timeout</c>;
/// <c>slow-load ID NAME</c> starts a load whose loader waits → <c>loading</c> once the loader runs, and
/// <c>release ID</c> lets that loader return NAME and waits for the load → <c>value NAME REV</c> | <c>null</c>.
/// </remarks>
internal static class EngineServe
{
    public static async Task RunAsync(WorkerArguments args)
    {
        var options = new CacheContextOptionsBuilder<EngineCache>()
            .UseKeyPrefix(args.Get("prefix"))
            .UseMemcached(args.Get("memcached"))
            .UseZooKeeper(args.Get("zookeeper"), "/typedcache/" + args.Get("prefix"))
            .Options;
        await using var cache = new EngineCache(options);
        await cache.Items.GetAsync(0).ConfigureAwait(false); // connected before the first command
        Console.WriteLine("ready");
        var slowLoads = new Dictionary<int, SlowLoad>();
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line && line != "exit")
        {
            Console.WriteLine(await AnswerAsync(cache, slowLoads, line.Split(' ')).ConfigureAwait(false));
        }
    }

    /// <summary>A load started by <c>slow-load</c>: its loader returns once <see cref="Release"/> is set.</summary>
    private sealed record SlowLoad(TaskCompletionSource Release, Task<Item?> Load);

    private static async Task<string> AnswerAsync(EngineCache cache, Dictionary<int, SlowLoad> slowLoads, string[] words)
    {
        var started = DateTime.UtcNow.Ticks;
        switch (words[0])
        {
            case "get":
                return Show(await cache.Items.GetAsync(Int(words[1])).ConfigureAwait(false));
            case "load":
                return Show(await cache.Items.GetOrLoadAsync(Int(words[1]), (id, _) => ValueTask.FromResult<Item?>(new Item(id, words[2], 1))).ConfigureAwait(false));
            case "stampede":
                var calls = 0;
                var delay = TimeSpan.FromMilliseconds(Int(words[3]));
                await Task.WhenAll(Enumerable.Range(0, Int(words[2])).Select(_ => Task.Run(async () =>
                    await cache.Items.GetOrLoadAsync(Int(words[1]), async (id, ct) =>
                    {
                        Interlocked.Increment(ref calls);
                        await Task.Delay(delay, ct).ConfigureAwait(false);
                        return new Item(id, "stampede", 1);
                    }).ConfigureAwait(false)))).ConfigureAwait(false);
                return $"calls {calls}";
            case "set":
                await cache.Items.SetAsync(new Item(Int(words[1]), words[2], Int(words[3]))).ConfigureAwait(false);
                return $"done {started}";
            case "invalidate":
                await cache.Items.InvalidateAsync(Int(words[1])).ConfigureAwait(false);
                return $"done {started}";
            case "invalidate-all":
                await cache.Items.InvalidateAllAsync().ConfigureAwait(false);
                return $"done {started}";
            case "invalidate-tag":
                await cache.InvalidateTagAsync(words[1]).ConfigureAwait(false);
                return $"done {started}";
            case "wait-null":
                var deadline = DateTime.UtcNow.AddMilliseconds(Int(words[2]));
                while (DateTime.UtcNow < deadline)
                {
                    if (await cache.Items.GetAsync(Int(words[1])).ConfigureAwait(false) is null)
                    {
                        return $"null {DateTime.UtcNow.Ticks}";
                    }

                    await Task.Delay(1).ConfigureAwait(false);
                }

                return "timeout";
            case "slow-load":
                var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var load = cache.Items.GetOrLoadAsync(Int(words[1]), async (id, _) =>
                {
                    loading.TrySetResult();
                    await release.Task.ConfigureAwait(false);
                    return new Item(id, words[2], 1);
                }).AsTask();
                slowLoads.Add(Int(words[1]), new SlowLoad(release, load));
                await Task.WhenAny(loading.Task, load).ConfigureAwait(false);
                return load.IsCompleted ? Show(await load.ConfigureAwait(false)) : "loading";
            case "release":
                slowLoads.Remove(Int(words[1]), out var slow);
                slow!.Release.SetResult();
                return Show(await slow.Load.ConfigureAwait(false));
            default:
                throw new ArgumentException($"Unknown engine-serve command '{words[0]}'.");
        }
    }

    private static string Show(Item? item) => item is null ? "null" : $"value {item.Name} {item.Revision}";

    private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
}
