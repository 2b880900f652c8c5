using System.CommandLine;
using TypedCache.Cluster;

namespace TypedCache.Cli;

/// <summary><c>register</c>: keeps one memcached server's membership znode while the server answers.</summary>
internal static class RegisterCommand
{
    public static Command Create()
    {
        var weight = new Option<int>("--weight") { Description = "The server's ketama weight.", DefaultValueFactory = _ => 1 };
        weight.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
                r.AddError("--weight must be at least 1.");
        });
        var interval = new Option<TimeSpan>("--check-interval")
        {
            Description = "How often the server is checked with mn; two failed checks in a row remove its znode.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
            CustomParser = CommonOptions.ParseDuration,
        };
        var command = new Command("register",
            "Register one memcached server (--memcached host:port) under {root}/nodes in ZooKeeper while it answers; runs until Ctrl+C or SIGTERM, then removes the znode.")
        { weight, interval };
        return command.WithAction(async (result, cancellationToken) =>
        {
            var servers = result.GetValue(CommonOptions.Memcached);
            if (servers is not { Length: 1 })
                throw CliError.BadUsage("register needs exactly one server: --memcached host:port");
            if (result.GetValue(CommonOptions.ZooKeeper) is null)
                throw CliError.BadUsage("register needs the ZooKeeper ensemble: --zookeeper host:port[,host:port...]");
            if (result.GetValue(interval) <= TimeSpan.Zero)
                throw CliError.BadUsage("--check-interval must be positive");
            var server = new RingNode(servers[0].Host, servers[0].Port, result.GetValue(weight));

            await using var client = await CommonOptions.ConnectZooKeeperAsync(result, cancellationToken, renewSession: true);
            var root = await CommonOptions.OpenRootAsync(client, result, cancellationToken);
            string path = $"{root.Nodes}/{server.Endpoint}";
            bool answering = true;
            await using (var registrar = MemcachedRegistrar.Start(root, server, new MemcachedRegistrarOptions { CheckInterval = result.GetValue(interval) }))
            {
                registrar.RegistrationChanged += (_, registered) =>
                {
                    answering = registered;
                    Console.Out.WriteLine(registered ? $"registered {path} weight {server.Weight}" : $"unregistered {path}: memcached stopped answering");
                };
                registrar.CheckFailed += (_, error) =>
                {
                    if (answering)
                        Console.Error.WriteLine($"typedcache: {error.Message}");
                    answering = false;
                };
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            Console.Out.WriteLine($"stopped; {path} removed");
            return 0;
        });
    }
}
