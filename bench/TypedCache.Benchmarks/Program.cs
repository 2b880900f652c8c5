using BenchmarkDotNet.Running;
using TypedCache.Benchmarks.Memcached;

if (args is ["memcached-load", .. var load])
    return await MemcachedLoad.RunAsync(load);
if (args is ["engine-stampede", .. var stampede])
    return await TypedCache.Benchmarks.Caching.StampedeComparison.RunAsync(stampede);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
