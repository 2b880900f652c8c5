namespace TypedCache.ZooKeeper;

/// <summary>One operation of a <see cref="ZooKeeperClient.MultiAsync"/> transaction.</summary>
public abstract record Op
{
    private protected Op(string path)
    {
        ZooKeeperPath.Validate(path);
        Path = path;
    }

    /// <summary>The node the operation acts on.</summary>
    public string Path { get; }

    /// <summary>Creates a node.</summary>
    /// <param name="path">The node's path (for sequential modes, the name prefix).</param>
    /// <param name="data">The data.</param>
    /// <param name="mode">The create mode; TTL modes are not allowed in a transaction.</param>
    /// <param name="acl">The ACL; <see cref="Acl.OpenUnsafe"/> when null.</param>
    /// <returns>The operation.</returns>
    public static CreateOp Create(string path, ReadOnlyMemory<byte> data, CreateMode mode = CreateMode.Persistent, IReadOnlyList<Acl>? acl = null) =>
        new(path, data, mode, acl ?? Acl.OpenUnsafe);

    /// <summary>Deletes a node.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="version">The expected version, or -1 for any.</param>
    /// <returns>The operation.</returns>
    public static DeleteOp Delete(string path, int version = -1) => new(path, version);

    /// <summary>Sets a node's data.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="data">The new data.</param>
    /// <param name="version">The expected version, or -1 for any.</param>
    /// <returns>The operation.</returns>
    public static SetDataOp SetData(string path, ReadOnlyMemory<byte> data, int version = -1) => new(path, data, version);

    /// <summary>Fails the transaction unless the node's version is <paramref name="version"/>.</summary>
    /// <param name="path">The node's path.</param>
    /// <param name="version">The expected version, or -1 to only require the node to exist.</param>
    /// <returns>The operation.</returns>
    public static CheckOp Check(string path, int version) => new(path, version);
}

/// <summary>A create inside a transaction.</summary>
public sealed record CreateOp : Op
{
    internal CreateOp(string path, ReadOnlyMemory<byte> data, CreateMode mode, IReadOnlyList<Acl> acl)
        : base(path)
    {
        if (mode is CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl)
        {
            throw new ArgumentException("TTL nodes cannot be created inside a transaction.", nameof(mode));
        }

        ZooKeeperPath.ValidateAcl(acl);
        Data = data;
        Mode = mode;
        Acl = acl;
    }

    /// <summary>The data.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The create mode.</summary>
    public CreateMode Mode { get; }

    /// <summary>The ACL.</summary>
    public IReadOnlyList<Acl> Acl { get; }
}

/// <summary>A delete inside a transaction.</summary>
public sealed record DeleteOp : Op
{
    internal DeleteOp(string path, int version)
        : base(path) => Version = version;

    /// <summary>The expected version, or -1 for any.</summary>
    public int Version { get; }
}

/// <summary>A setData inside a transaction.</summary>
public sealed record SetDataOp : Op
{
    internal SetDataOp(string path, ReadOnlyMemory<byte> data, int version)
        : base(path)
    {
        Data = data;
        Version = version;
    }

    /// <summary>The new data.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The expected version, or -1 for any.</summary>
    public int Version { get; }
}

/// <summary>A version check inside a transaction.</summary>
public sealed record CheckOp : Op
{
    internal CheckOp(string path, int version)
        : base(path) => Version = version;

    /// <summary>The expected version, or -1 for any.</summary>
    public int Version { get; }
}

/// <summary>The result of one operation of a transaction.</summary>
public abstract record OpResult
{
    private protected OpResult()
    {
    }
}

/// <summary>A node was created.</summary>
/// <param name="Path">The created path (with the sequence suffix for sequential modes), relative to the chroot.</param>
public sealed record CreateResult(string Path) : OpResult;

/// <summary>A node was deleted.</summary>
public sealed record DeleteResult : OpResult;

/// <summary>A node's data was set.</summary>
/// <param name="Stat">The node's metadata after the change.</param>
public sealed record SetDataResult(Stat Stat) : OpResult;

/// <summary>A version check passed.</summary>
public sealed record CheckResult : OpResult;

/// <summary>
/// The operation's outcome in a failed transaction: the failing operation has its real code, the ones before it
/// <see cref="KeeperErrorCode.Ok"/> (rolled back) and the ones after it <see cref="KeeperErrorCode.RuntimeInconsistency"/>.
/// </summary>
/// <param name="Code">The operation's error code.</param>
public sealed record ErrorResult(KeeperErrorCode Code) : OpResult;
