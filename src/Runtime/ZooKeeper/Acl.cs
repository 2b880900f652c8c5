using System.Security.Cryptography;
using System.Text;

namespace TypedCache.ZooKeeper;

/// <summary>The permission bits of an <see cref="Acl"/>.</summary>
[Flags]
public enum Permissions
{
    /// <summary>No permission.</summary>
    None = 0,

    /// <summary>Read the data and list the children.</summary>
    Read = 1,

    /// <summary>Set the data.</summary>
    Write = 2,

    /// <summary>Create children.</summary>
    Create = 4,

    /// <summary>Delete children.</summary>
    Delete = 8,

    /// <summary>Set the ACL.</summary>
    Admin = 16,

    /// <summary>Every permission.</summary>
    All = Read | Write | Create | Delete | Admin,
}

/// <summary>One access-control entry of a znode: permissions granted to an identity of a scheme.</summary>
/// <param name="Permissions">The permissions granted.</param>
/// <param name="Scheme">The scheme: <c>world</c>, <c>auth</c>, <c>digest</c>, <c>ip</c>, ...</param>
/// <param name="Id">The identity within the scheme, e.g. <c>anyone</c> or <c>user:BASE64(SHA1(user:password))</c>.</param>
public sealed record Acl(Permissions Permissions, string Scheme, string Id)
{
    /// <summary>Everyone may do everything (<c>world:anyone</c>, all permissions): ZooKeeper's OPEN_ACL_UNSAFE.</summary>
    public static IReadOnlyList<Acl> OpenUnsafe { get; } = [new(Permissions.All, "world", "anyone")];

    /// <summary>Everyone may read (<c>world:anyone</c>, read): ZooKeeper's READ_ACL_UNSAFE.</summary>
    public static IReadOnlyList<Acl> ReadUnsafe { get; } = [new(Permissions.Read, "world", "anyone")];

    /// <summary>
    /// Every permission to the identities this session has authenticated (<c>auth</c> scheme): ZooKeeper's
    /// CREATOR_ALL_ACL. The session must have added auth first, or the server answers InvalidACL.
    /// </summary>
    public static IReadOnlyList<Acl> CreatorAll { get; } = [new(Permissions.All, "auth", "")];

    /// <summary>An entry of the <c>digest</c> scheme for <paramref name="user"/> with <paramref name="password"/>.</summary>
    /// <param name="user">The user name (must not contain ':').</param>
    /// <param name="password">The password, as it will be given to <see cref="ZooKeeperClient.AddDigestAuthAsync"/>.</param>
    /// <param name="permissions">The permissions granted.</param>
    /// <returns>The entry, with the id <c>user:BASE64(SHA1("user:password"))</c>.</returns>
    public static Acl Digest(string user, string password, Permissions permissions)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException("A digest user name cannot contain ':'.", nameof(user));
        }

        byte[] hash = SHA1.HashData(Encoding.UTF8.GetBytes(user + ":" + password));
        return new Acl(permissions, "digest", user + ":" + Convert.ToBase64String(hash));
    }
}
