using BenchmarkDotNet.Running;
using TypedCache.Benchmarks.Memcached;

if (args is ["memcached-load", .. var load])
    return await MemcachedLoad.RunAsync(load);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
