using System.Globalization;
using System.Text;
using TypedCache.ZooKeeper;

namespace TypedCache.Coordination;

/// <summary>
/// TypedCache's ZooKeeper tree under one root (design.md's layout) on one client: the paths of every recipe, the ACL
/// everything is created with, and idempotent creation of parent nodes.
/// </summary>
/// <remarks>
/// Without a credential every node is created world-writable (<see cref="Acl.OpenUnsafe"/>). With a digest credential
/// the session authenticates first, and every node gets <c>digest:user:all</c> plus <c>world:anyone:read</c>, so other
/// ZooKeeper users can read membership, versions, events and locks but not change them.
/// </remarks>
internal sealed class CoordinationRoot
{
    private CoordinationRoot(ZooKeeperClient client, string root, IReadOnlyList<Acl> acl)
    {
        Client = client;
        Root = root;
        Acl = acl;
        Nodes = Join(root, "nodes");
        Versions = Join(root, "versions");
        Types = Join(Versions, "types");
        Tags = Join(Versions, "tags");
        Events = Join(root, "events");
        Locks = Join(root, "locks");
        Leader = Join(root, "leader");
    }

    public ZooKeeperClient Client { get; }

    /// <summary>The root path, e.g. <c>/typedcache/shop</c>.</summary>
    public string Root { get; }

    /// <summary>The ACL of the root and of every node created under it.</summary>
    public IReadOnlyList<Acl> Acl { get; }

    /// <summary><c>{root}/nodes</c>: one ephemeral child per live memcached server.</summary>
    public string Nodes { get; }

    /// <summary><c>{root}/versions</c>, the parent of <see cref="Types"/> and <see cref="Tags"/>.</summary>
    public string Versions { get; }

    /// <summary><c>{root}/versions/types</c>: one decimal counter per cached type.</summary>
    public string Types { get; }

    /// <summary><c>{root}/versions/tags</c>: one decimal counter per tag.</summary>
    public string Tags { get; }

    /// <summary><c>{root}/events</c>: persistent-sequential <c>ev-</c> children, one batch of invalidations each.</summary>
    public string Events { get; }

    /// <summary><c>{root}/locks</c>: <c>{Type}/{key}</c> lock directories.</summary>
    public string Locks { get; }

    /// <summary><c>{root}/leader</c>: the leader latch's contenders.</summary>
    public string Leader { get; }

    /// <summary>
    /// Opens the root on <paramref name="client"/>: validates the path, authenticates the session when a credential
    /// is given (the client re-sends it after every reconnect), and creates the root and its ancestors if missing.
    /// </summary>
    /// <param name="client">A client of the ensemble.</param>
    /// <param name="root">An absolute path such as <c>/typedcache/shop</c>.</param>
    /// <param name="credential">A digest credential, or null for world-writable nodes.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>The root.</returns>
    /// <exception cref="ArgumentException">The root is not a valid ZooKeeper path or is <c>/</c>.</exception>
    public static async Task<CoordinationRoot> OpenAsync(
        ZooKeeperClient client, string root, DigestCredential? credential = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ZooKeeperPath.Validate(root, nameof(root));
        if (root == "/")
        {
            throw new ArgumentException("The TypedCache root must be below '/', e.g. '/typedcache/app'.", nameof(root));
        }

        IReadOnlyList<Acl> acl = ZooKeeper.Acl.OpenUnsafe;
        if (credential is not null)
        {
            await client.AddDigestAuthAsync(credential.User, credential.Password, cancellationToken).ConfigureAwait(false);
            acl = [ZooKeeper.Acl.Digest(credential.User, credential.Password, Permissions.All), new Acl(Permissions.Read, "world", "anyone")];
        }

        var opened = new CoordinationRoot(client, root, acl);
        await opened.EnsurePathAsync(root, CreateMode.Persistent, cancellationToken).ConfigureAwait(false);
        return opened;
    }

    /// <summary><c>{root}/versions/types/{type}</c> or <c>{root}/versions/tags/{tag}</c>.</summary>
    public string VersionPath(VersionKind kind, string name) => Join(kind == VersionKind.Type ? Types : Tags, Segment(name));

    /// <summary><c>{root}/locks/{type}/{key}</c>, each part escaped into one path segment.</summary>
    public string LockPath(string type, string key) => Join(Join(Locks, Segment(type)), Segment(key));

    /// <summary>
    /// Creates <paramref name="path"/> and every missing ancestor with this root's ACL (ancestors above the root with
    /// <see cref="Acl.OpenUnsafe"/>: other roots may share them), tolerating nodes that exist
    /// already or appear concurrently (kazoo's <c>ensure_path</c>). Ancestors at or above the root and the first
    /// level below it are persistent; the rest get <paramref name="mode"/>.
    /// </summary>
    /// <param name="path">The node to create.</param>
    /// <param name="mode"><see cref="CreateMode.Persistent"/> or <see cref="CreateMode.Container"/>.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <returns>A task that completes when the node exists.</returns>
    public async Task EnsurePathAsync(string path, CreateMode mode, CancellationToken cancellationToken)
    {
        if (await Client.ExistsAsync(path, cancellationToken).ConfigureAwait(false) is not null)
        {
            return;
        }

        // Containers can be reaped between creating one and creating its child: NoNode means go round again.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                int start = 1;
                while (start < path.Length)
                {
                    int slash = path.IndexOf('/', start);
                    string prefix = slash < 0 ? path : path[..slash];
                    CreateMode prefixMode = prefix.Length <= Root.Length || ZooKeeperPath.Parent(prefix) == Root ? CreateMode.Persistent : mode;
                    try
                    {
                        // Ancestors above the root may be shared with other roots (and other credentials): left open.
                        IReadOnlyList<Acl> acl = prefix.Length < Root.Length ? ZooKeeper.Acl.OpenUnsafe : Acl;
                        await Client.CreateAsync(prefix, ReadOnlyMemory<byte>.Empty, prefixMode, acl, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    catch (NodeExistsException)
                    {
                    }

                    start = slash < 0 ? path.Length : slash + 1;
                }

                return;
            }
            catch (NoNodeException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>
    /// Escapes <paramref name="name"/> into one valid path segment: <c>%</c>, <c>/</c>, characters ZooKeeper rejects and
    /// the whole names <c>.</c> and <c>..</c> become <c>%XX</c> UTF-8 escapes; every other character is kept.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public static string Segment(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "." or "..")
        {
            return name.Replace(".", "%2E", StringComparison.Ordinal);
        }

        int first = 0;
        while (first < name.Length && !MustEscape(name[first]))
        {
            first++;
        }

        if (first == name.Length)
        {
            return name;
        }

        var builder = new StringBuilder(name.Length + 8).Append(name, 0, first);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = first; i < name.Length; i++)
        {
            char c = name[i];
            if (!MustEscape(c))
            {
                builder.Append(c);
                continue;
            }

            int length = char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1])
                ? Encoding.UTF8.GetBytes(name.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(name.AsSpan(i, 1), utf8);
            foreach (byte b in utf8[..length])
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static bool MustEscape(char c) =>
        c is '%' or '/' or (<= '\u001f') or (>= '\u007f' and <= '\u009f') or (>= '\ud800' and <= '\uf8ff') or (>= '\ufff0');

    private static string Join(string parent, string child) => parent + "/" + child;
}

/// <summary>Which kind of version counter: a cached type's (<c>InvalidateAllAsync</c>) or a tag's.</summary>
internal enum VersionKind
{
    Type,
    Tag,
}

/// <summary>A ZooKeeper <c>digest</c> user and password.</summary>
/// <param name="User">The user name (no ':').</param>
/// <param name="Password">The password.</param>
internal sealed record DigestCredential(string User, string Password);
