using System.Globalization;

namespace TypedCache.ZooKeeper;

/// <summary>A parsed connect string: <c>host1:port1,host2:port2[/chroot]</c> (port 2181 by default, IPv6 in brackets).</summary>
internal sealed record ZooKeeperConnectString(IReadOnlyList<(string Host, int Port)> Hosts, string Chroot)
{
    public const int DefaultPort = 2181;

    public static ZooKeeperConnectString Parse(string connectString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectString);
        string chroot = "";
        int slash = connectString.IndexOf('/', StringComparison.Ordinal);
        string hostList = connectString;
        if (slash >= 0)
        {
            chroot = connectString[slash..];
            hostList = connectString[..slash];
            ZooKeeperPath.Validate(chroot, nameof(connectString));
            if (chroot == "/")
            {
                chroot = "";
            }
        }

        var hosts = new List<(string, int)>();
        foreach (string part in hostList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            hosts.Add(ParseHost(part, connectString));
        }

        if (hosts.Count == 0)
        {
            throw new ArgumentException($"The connect string '{connectString}' names no server.", nameof(connectString));
        }

        return new ZooKeeperConnectString(hosts, chroot);
    }

    /// <summary>Removes the chroot from a path the server returned; the chroot itself becomes "/".</summary>
    public static string StripChroot(string chroot, string serverPath)
    {
        if (chroot.Length == 0)
        {
            return serverPath;
        }

        if (serverPath.Length == chroot.Length && serverPath == chroot)
        {
            return "/";
        }

        return serverPath.StartsWith(chroot, StringComparison.Ordinal) && serverPath.Length > chroot.Length && serverPath[chroot.Length] == '/'
            ? serverPath[chroot.Length..]
            : serverPath;
    }

    private static (string, int) ParseHost(string part, string connectString)
    {
        string host = part;
        string? port = null;
        if (part.StartsWith('['))
        {
            int close = part.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Unclosed '[' in '{part}' of the connect string '{connectString}'.", nameof(connectString));
            }

            host = part[1..close];
            if (close + 1 < part.Length)
            {
                if (part[close + 1] != ':')
                {
                    throw new ArgumentException($"Expected ':' after ']' in '{part}'.", nameof(connectString));
                }

                port = part[(close + 2)..];
            }
        }
        else
        {
            int colon = part.LastIndexOf(':');
            if (colon >= 0)
            {
                host = part[..colon];
                port = part[(colon + 1)..];
            }
        }

        int portNumber = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
        {
            throw new ArgumentException($"Invalid port '{port}' in '{part}' of the connect string '{connectString}'.", nameof(connectString));
        }

        if (host.Length == 0)
        {
            throw new ArgumentException($"Empty host in '{part}' of the connect string '{connectString}'.", nameof(connectString));
        }

        return (host, portNumber);
    }
}
