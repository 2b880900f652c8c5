using System.CommandLine;
using System.CommandLine.Help;
using TypedCache.Cli;

using var shutdown = new ShutdownSignal();

// A plain command named for the tool rather than RootCommand, whose name is the entry assembly's (TypedCache.Cli).
var root = new Command("typedcache", "Look at and run a TypedCache memcached cluster: membership in ZooKeeper, ketama ring, stats, registration, locks.")
{
    new HelpOption(),
    new VersionOption(),
};
CommonOptions.AddTo(root);
root.Subcommands.Add(ClusterCommands.Nodes());
root.Subcommands.Add(ClusterCommands.Ring());
root.Subcommands.Add(ClusterCommands.Locate());
root.Subcommands.Add(ClusterCommands.Stats());
root.Subcommands.Add(RegisterCommand.Create());
root.Subcommands.Add(LockCommand.Create());
root.Subcommands.Add(ProxyCommand.Create());
root.Subcommands.Add(BenchCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"typedcache: {string.Join(" ", parsed.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Replace('\t', ' ')))}");
    return CliError.Usage;
}
// Signals are handled by ShutdownSignal alone (System.CommandLine's own handling starts only once a command has begun).
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, shutdown.Token);
