using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace TypedCache;

// The options builder read from configuration (appsettings.json, environment variables, ...).
public sealed partial class CacheContextOptionsBuilder<TContext>
{
    /// <summary>
    /// Configures the context from a configuration section, for example <c>configuration.GetSection("TypedCache")</c>:
    /// <list type="table">
    /// <listheader><term>key</term><description>meaning</description></listheader>
    /// <item><term><c>ZooKeeper:ConnectString</c>, <c>ZooKeeper:Root</c></term><description><see cref="UseZooKeeper"/>; both or neither.</description></item>
    /// <item><term><c>Memcached:Nodes</c></term><description><see cref="UseMemcached(string[])"/>: an array, or one comma-separated string.</description></item>
    /// <item><term><c>LocalCache:MaxEntries</c></term><description><see cref="UseLocalCache"/>.</description></item>
    /// <item><term><c>InMemory</c></term><description><c>true</c>: <see cref="UseInMemory"/> (when neither ZooKeeper nor memcached is set).</description></item>
    /// <item><term><c>KeyPrefix</c></term><description><see cref="UseKeyPrefix"/>.</description></item>
    /// <item><term><c>FailSafeMaxAge</c>, <c>LeaseTtl</c>, ...</term><description>any property of <see cref="DistributedCacheOptions"/>, by name (times as <c>hh:mm:ss</c>).</description></item>
    /// </list>
    /// Keys that are absent keep what the builder had.
    /// </summary>
    /// <param name="section">The section to read.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">A value is invalid or an option is missing; the message names its key.</exception>
    public CacheContextOptionsBuilder<TContext> UseConfiguration(IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection named ? named.Path + ":" : "";
        if (section["KeyPrefix"] is { } keyPrefix)
        {
            Apply(_ => path + "KeyPrefix", () => UseKeyPrefix(keyPrefix));
        }

        var connectString = section["ZooKeeper:ConnectString"];
        var root = section["ZooKeeper:Root"];
        var nodes = ReadList(section.GetSection("Memcached:Nodes"));
        var localCache = section["LocalCache:MaxEntries"];
        if (connectString is null && root is null && nodes.Count == 0)
        {
            if (!ReadBool(section, path, "InMemory"))
            {
                throw new InvalidOperationException(
                    $"The TypedCache configuration of {typeof(TContext).Name} chooses no engine: set '{path}ZooKeeper:ConnectString' and " +
                    $"'{path}ZooKeeper:Root', '{path}Memcached:Nodes', or '{path}InMemory' = true.");
            }

            UseInMemory();
        }
        else
        {
            UseDistributedConfiguration(section, path, connectString, root, nodes);
        }

        if (localCache is not null)
        {
            if (!int.TryParse(localCache, NumberStyles.None, CultureInfo.InvariantCulture, out var maxEntries))
            {
                throw new InvalidOperationException($"'{path}LocalCache:MaxEntries' must be a whole number of 0 or more, not '{localCache}'.");
            }

            UseLocalCache(maxEntries);
        }

        return this;
    }

    /// <summary>The memcached engine from the ZooKeeper and memcached keys, and any engine option set by name.</summary>
    private void UseDistributedConfiguration(IConfiguration section, string path, string? connectString, string? root, List<string> nodes)
    {
        if (connectString is not null || root is not null)
        {
            var zooKeeperConnectString = Required(connectString, path + "ZooKeeper:ConnectString");
            var zooKeeperRoot = Required(root, path + "ZooKeeper:Root");
            Apply(name => path + (name == "root" ? "ZooKeeper:Root" : "ZooKeeper:ConnectString"), () => UseZooKeeper(zooKeeperConnectString, zooKeeperRoot));
        }

        Apply(name => path + (name is [>= 'A' and <= 'Z', ..] ? name : "Memcached:Nodes"), () =>
        {
            if (nodes.Count > 0)
            {
                UseMemcached(nodes, configure: null);
            }

            section.Bind(_distributed.Options);
            _distributed.Options.Validate();
            UseDistributed();
        });
    }

    /// <summary>Runs a <c>Use...</c> call; an engine option's exception names its property (upper case), the others a parameter of the method.</summary>
    private static void Apply(Func<string?, string> keyOf, Action use)
    {
        try
        {
            use();
        }
        catch (ArgumentException exception)
        {
            throw new InvalidOperationException($"The TypedCache option '{keyOf(exception.ParamName)}' is invalid: {exception.Message}", exception);
        }
    }

    /// <summary>The memcached endpoints configured so far, for tests.</summary>
    internal IEnumerable<string> DistributedNodes => _distributed.Nodes.Select(node => node.Endpoint);

    /// <summary>The engine options configured so far, for tests.</summary>
    internal DistributedCacheOptions DistributedOptions => _distributed.Options;

    private static string Required(string? value, string key) =>
        string.IsNullOrWhiteSpace(value) ? throw new InvalidOperationException($"The TypedCache option '{key}' is missing.") : value;

    private static bool ReadBool(IConfiguration section, string path, string key) => section[key] switch
    {
        null => false,
        var text when bool.TryParse(text, out var value) => value,
        var text => throw new InvalidOperationException($"'{path}{key}' must be true or false, not '{text}'."),
    };

    /// <summary>An array section's values, or its own value split at commas.</summary>
    private static List<string> ReadList(IConfigurationSection section) =>
        section.Value is { } text
            ? [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [.. section.GetChildren().Select(child => child.Value).OfType<string>()];
}
