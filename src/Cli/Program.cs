using System.CommandLine;
using TypedCache.Cli;

var root = new RootCommand("typedcache: look at and run a TypedCache memcached cluster (membership in ZooKeeper, ketama ring, stats, registration, locks).");
CommonOptions.AddTo(root);
root.Subcommands.Add(ClusterCommands.Nodes());
root.Subcommands.Add(ClusterCommands.Ring());
root.Subcommands.Add(ClusterCommands.Locate());
root.Subcommands.Add(ClusterCommands.Stats());
root.Subcommands.Add(RegisterCommand.Create());
root.Subcommands.Add(LockCommand.Create());
root.Subcommands.Add(ProxyCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"typedcache: {string.Join(" ", parsed.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Replace('\t', ' ')))}");
    return CliError.Usage;
}
return await parsed.InvokeAsync();
