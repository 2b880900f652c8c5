using System.Diagnostics;
using TypedCache.Load.Measure;

namespace TypedCache.Load.Workers;

/// <summary>
/// The worker mode of the load tool (<c>TypedCache.Load worker {spec}</c>): opens one cache client, prints
/// <c>ready</c>, waits for <c>go</c> on stdin, then runs the mix until <c>stop</c>, the end of stdin (its parent
/// died) or its operation budget, printing one <c>tick {json}</c> line per interval and <c>done</c> at the end.
/// </summary>
internal static class Worker
{
    public static async Task<int> RunAsync(WorkerSpec spec)
    {
        var output = Console.Out;
        await using var target = LoadTargets.Create(spec);
        await target.ReadAsync(0, CancellationToken.None);
        var keys = new ZipfKeys(spec.Keys, spec.ZipfExponent);
        using (var warmup = new CancellationTokenSource(spec.WarmupMilliseconds))
        {
            await Task.WhenAll(Enumerable.Range(0, spec.Concurrency)
                .Select(i => Task.Run(() => RunCallerAsync(target, spec, keys, new Random(-i), new IntervalMeter(), () => true, warmup.Token))));
        }
        await output.WriteLineAsync("ready");
        await output.FlushAsync();
        if (await Console.In.ReadLineAsync() != "go")
            return 0;

        using var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            await Console.In.ReadLineAsync();
            await stop.CancelAsync();
        });
        var meter = new IntervalMeter();
        long budget = spec.MaxOperations;
        var callers = Enumerable.Range(0, spec.Concurrency)
            .Select(i => Task.Run(() => RunCallerAsync(target, spec, keys, new Random(spec.Seed * 7919 + i), meter, () => Interlocked.Decrement(ref budget) >= 0, stop.Token)))
            .ToArray();
        var all = Task.WhenAll(callers);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(spec.TickMilliseconds));
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, timer.WaitForNextTickAsync().AsTask());
            await output.WriteLineAsync(meter.Take().ToLine());
            await output.FlushAsync();
        }
        await all;
        await output.WriteLineAsync("done");
        await output.FlushAsync();
        return 0;
    }

    private static async Task RunCallerAsync(ILoadTarget target, WorkerSpec spec, ZipfKeys keys, Random random, IntervalMeter meter, Func<bool> take, CancellationToken stop)
    {
        long version = 0;
        while (!stop.IsCancellationRequested && take())
        {
            int key = keys.Next(random);
            int roll = random.Next(100);
            long started = Stopwatch.GetTimestamp();
            try
            {
                OperationKind kind;
                if (roll < spec.Mix.Read)
                {
                    kind = OperationKinds.Read(hit: await target.ReadAsync(key, stop));
                }
                else if (roll < spec.Mix.Read + spec.Mix.Write)
                {
                    await target.WriteAsync(key, ++version, stop);
                    kind = OperationKind.Write;
                }
                else
                {
                    await target.InvalidateAsync(key, stop);
                    kind = OperationKind.Invalidate;
                }
                meter.Record(started, kind);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                meter.Unfinished(started);
                return;
            }
            catch (Exception e)
            {
                meter.Fail(e);
            }
        }
    }
}
