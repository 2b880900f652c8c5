using BenchmarkDotNet.Running;
using TypedCache.Benchmarks.Memcached;

if (args is ["memcached-load", .. var load])
    return await MemcachedLoad.RunAsync(load);
if (args is ["engine-stampede", .. var stampede])
    return await TypedCache.Benchmarks.Caching.StampedeComparison.RunAsync(stampede);
if (args is ["engine-propagation", .. var propagation])
    return await TypedCache.Benchmarks.Caching.PropagationBenchmark.RunAsync(propagation);
if (args is [TypedCache.Benchmarks.Caching.PropagationBenchmark.ReaderMode, .. var reader])
    return await TypedCache.Benchmarks.Caching.PropagationBenchmark.RunReaderAsync(reader);

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
