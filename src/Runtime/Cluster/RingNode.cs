using System.Globalization;

namespace TypedCache.Cluster;

/// <summary>
/// One memcached server as the ring sees it: the host string exactly as configured (never resolved:
/// <c>localhost</c> and <c>127.0.0.1</c> are different ring members), its port, its weight and, for
/// twemproxy compatibility only, the server name twemproxy's configuration may give it.
/// </summary>
internal sealed record RingNode
{
    /// <summary>memcached's default port, left out of point names by libmemcached and twemproxy.</summary>
    public const int DefaultPort = 11211;

    /// <summary>The longest host or name accepted, in characters (a DNS name has at most 253).</summary>
    public const int MaxNameLength = 255;

    public RingNode(string host, int port = DefaultPort, int weight = 1, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Length is 0 or > MaxNameLength || host.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new ArgumentException($"The ring node host '{host}' must be 1 to {MaxNameLength} characters, without spaces or control characters.", nameof(host));
        if (port is < 1 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(port), port, $"The port of ring node '{host}' must be between 1 and 65535.");
        if (weight < 1)
            throw new ArgumentOutOfRangeException(nameof(weight), weight, $"The weight of ring node '{host}:{port}' must be at least 1.");
        if (name is not null && (name.Length is 0 or > MaxNameLength || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
            throw new ArgumentException($"The name '{name}' of ring node '{host}:{port}' must be 1 to {MaxNameLength} characters, without spaces or control characters.", nameof(name));

        Host = host;
        Port = port;
        Weight = weight;
        Name = name;
        Endpoint = host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
    }

    /// <summary>The host as configured: a name or an IP address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The TCP port.</summary>
    public int Port { get; }

    /// <summary>The relative share of keys, at least 1.</summary>
    public int Weight { get; }

    /// <summary>twemproxy's optional server name; when set, twemproxy rings place the server by it.</summary>
    public string? Name { get; }

    /// <summary><c>host:port</c>, with an IPv6 host in brackets: the address to connect to and the
    /// membership znode's name.</summary>
    public string Endpoint { get; }

    /// <summary>
    /// Parses <c>host</c>, <c>host:port</c> or <c>host:port:weight</c> (pylibmc's and twemproxy's server
    /// form); an IPv6 host is written in brackets, as in <c>[::1]:11211</c>.
    /// </summary>
    /// <exception cref="FormatException">The text is not one of those forms.</exception>
    public static RingNode Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string host;
        string rest;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < text.Length && text[close + 1] != ':'))
                throw new FormatException($"'{text}' is not a ring node: expected [ipv6]:port[:weight].");
            host = text[1..close];
            rest = close + 1 < text.Length ? text[(close + 2)..] : "";
        }
        else
        {
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && text.AsSpan(colon + 1).Count(':') > 1)
                throw new FormatException($"'{text}' is not a ring node: write an IPv6 host in brackets, as in [::1]:11211.");
            host = colon < 0 ? text : text[..colon];
            rest = colon < 0 ? "" : text[(colon + 1)..];
        }

        int port = DefaultPort;
        int weight = 1;
        if (rest.Length > 0 || text.EndsWith(':'))
        {
            int colon = rest.IndexOf(':', StringComparison.Ordinal);
            string portText = colon < 0 ? rest : rest[..colon];
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port))
                throw new FormatException($"'{text}' is not a ring node: '{portText}' is not a port.");
            if (colon >= 0)
            {
                string weightText = rest[(colon + 1)..];
                if (!int.TryParse(weightText, NumberStyles.None, CultureInfo.InvariantCulture, out weight))
                    throw new FormatException($"'{text}' is not a ring node: '{weightText}' is not a weight.");
            }
        }

        try
        {
            return new RingNode(host, port, weight);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"'{text}' is not a ring node: {e.Message}", e);
        }
    }

    /// <summary>The endpoint, weight and name, for logs and the CLI.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Endpoint} weight {Weight}{(Name is null ? "" : " name " + Name)}");
}
