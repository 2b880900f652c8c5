using System.CommandLine;
using System.Globalization;
using TypedCache.Load;
using TypedCache.Load.Workers;

// `TypedCache.Load worker {spec}` is a worker process started by a run, `TypedCache.Load proxy {zookeeper} {root}` the
// TypedCache proxy of the proxy scenario; anything else is the bench command itself.
if (args is ["worker", var spec])
    return await Worker.RunAsync(WorkerSpec.Parse(spec));
if (args is ["proxy", var zooKeeperConnect, var coordinationRoot])
    return await TypedCache.Load.Proxies.ProxyProcess.RunTypedCacheAsync(zooKeeperConnect, coordinationRoot);

var memcached = new Option<string[]>("--memcached", "-m") { Description = "Running memcached servers host:port, comma-separated or repeated (needs --zookeeper).", AllowMultipleArgumentsPerToken = true };
var zooKeeper = new Option<string?>("--zookeeper", "-z") { Description = "A running ZooKeeper ensemble host:port[,host:port...]; without it the run starts its own servers." };
// Durations in plain seconds here; `typedcache bench` takes the tool's 500ms / 10s / 1m forms.
var root = BenchCommandLine.Create(
    "typedcache-load",
    result => ([.. (result.GetValue(memcached) ?? []).SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))], result.GetValue(zooKeeper)),
    result => TimeSpan.FromSeconds(double.TryParse(result.Tokens[0].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) ? seconds : 0));
root.Options.Add(memcached);
root.Options.Add(zooKeeper);
// Long enough to stop the servers and workers the run started after Ctrl+C.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
