namespace TypedCache.ZooKeeper.Protocol;

/// <summary>
/// One request: its op code, how its body is written and how its reply is read. The connection assigns the xid
/// while it writes the frame, keeps the request in its FIFO until the reply arrives and completes it on the read
/// loop; callers resume off the read loop.
/// </summary>
internal abstract class ZooKeeperRequest(string chroot, string? path)
{
    protected string Chroot { get; } = chroot;

    /// <summary>The caller's path, for exception messages; null for requests about no single path.</summary>
    public string? Path { get; } = path;

    public abstract int OpCode { get; }

    /// <summary>The xid the connection gave this request when it wrote it.</summary>
    public int Xid { get; set; }

    /// <summary>A fixed xid (set-watches) instead of the next one from the sequence; 0 for a normal request.</summary>
    public virtual int FixedXid => 0;

    public abstract void WriteBody(JuteWriter writer);

    /// <summary>Completes the request from its reply; throws <see cref="ZooKeeperProtocolException"/> on a malformed body.</summary>
    public abstract void Complete(in ReplyHeader header, ReadOnlySpan<byte> body);

    public abstract void Fail(Exception exception);

    protected string Strip(string serverPath) => ZooKeeperConnectString.StripChroot(Chroot, serverPath);
}

/// <param name="chroot">The client's chroot.</param>
/// <param name="path">The caller's path.</param>
/// <param name="completeOnReadThread">
/// Run the task's continuations where the reply is read (the connection's read thread) instead of on the thread pool:
/// one thread hop fewer, for short non-blocking continuations only.
/// </param>
internal abstract class ZooKeeperRequest<T>(string chroot, string? path, bool completeOnReadThread = false) : ZooKeeperRequest(chroot, path)
{
    private readonly TaskCompletionSource<T> _completion = new(completeOnReadThread ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override void Complete(in ReplyHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Err != 0)
        {
            var code = (KeeperErrorCode)header.Err;
            if (TryCompleteError(code, out T? value))
            {
                _completion.TrySetResult(value);
            }
            else
            {
                _completion.TrySetException(KeeperException.Create(code, Path));
            }

            return;
        }

        var reader = new JuteReader(body);
        _completion.TrySetResult(Read(ref reader));
    }

    public override void Fail(Exception exception) => _completion.TrySetException(exception);

    public void Cancel(CancellationToken token) => _completion.TrySetCanceled(token);

    protected abstract T Read(ref JuteReader reader);

    /// <summary>Lets a request turn an error code into a value (exists on NoNode is null, not an error).</summary>
    protected virtual bool TryCompleteError(KeeperErrorCode code, out T value)
    {
        value = default!;
        return false;
    }
}

/// <summary>A request whose reply has no body (delete, removeWatches, closeSession, setWatches2).</summary>
internal abstract class EmptyReplyRequest(string chroot, string? path) : ZooKeeperRequest<bool>(chroot, path)
{
    protected override bool Read(ref JuteReader reader) => true;
}

internal sealed class CreateRequest : ZooKeeperRequest<CreatedNode>
{
    private readonly ReadOnlyMemory<byte> _data;
    private readonly IReadOnlyList<Acl> _acl;
    private readonly CreateMode _mode;
    private readonly long _ttl;

    public CreateRequest(string chroot, string path, ReadOnlyMemory<byte> data, IReadOnlyList<Acl> acl, CreateMode mode, long ttl)
        : base(chroot, path)
    {
        _data = data;
        _acl = acl;
        _mode = mode;
        _ttl = ttl;
    }

    public override int OpCode => _mode switch
    {
        CreateMode.Container => Protocol.OpCode.CreateContainer,
        CreateMode.PersistentWithTtl or CreateMode.PersistentSequentialWithTtl => Protocol.OpCode.CreateTtl,
        _ => Protocol.OpCode.Create2,
    };

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteBuffer(_data.Span);
        writer.WriteAcls(_acl);
        writer.WriteInt((int)_mode);
        if (OpCode == Protocol.OpCode.CreateTtl)
        {
            writer.WriteLong(_ttl);
        }
    }

    protected override CreatedNode Read(ref JuteReader reader) => new(Strip(reader.ReadRequiredString()), reader.ReadStat());
}

internal sealed class DeleteRequest(string chroot, string path, int version) : EmptyReplyRequest(chroot, path)
{
    public override int OpCode => Protocol.OpCode.Delete;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteInt(version);
    }
}

/// <summary>exists, getData and getChildren2: a path, a watch flag, and a watch registered when the reply allows it.</summary>
internal abstract class WatchingReadRequest<T>(string chroot, string path, ZooKeeperWatches? watches, WatchKind kind, bool completeOnReadThread = false)
    : ZooKeeperRequest<T>(chroot, path, completeOnReadThread)
{
    public TaskCompletionSource<WatchedEvent>? Watch { get; } =
        watches is null ? null : new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteBool(watches is not null);
    }

    protected sealed override T Read(ref JuteReader reader)
    {
        T value = ReadValue(ref reader);
        RegisterWatch(kind);
        return value;
    }

    protected abstract T ReadValue(ref JuteReader reader);

    // Registered on the read loop before the reply completes, so no later notification can be missed.
    protected void RegisterWatch(WatchKind registered) => watches?.Register(registered, Path!, Watch!);
}

internal sealed class ExistsRequest(string chroot, string path, ZooKeeperWatches? watches)
    : WatchingReadRequest<Stat?>(chroot, path, watches, WatchKind.Data)
{
    public override int OpCode => Protocol.OpCode.Exists;

    protected override Stat? ReadValue(ref JuteReader reader) => reader.ReadStat();

    protected override bool TryCompleteError(KeeperErrorCode code, out Stat? value)
    {
        value = null;
        if (code != KeeperErrorCode.NoNode)
        {
            return false;
        }

        RegisterWatch(WatchKind.Exist);
        return true;
    }
}

internal sealed class GetDataRequest(string chroot, string path, ZooKeeperWatches? watches, bool completeOnReadThread = false)
    : WatchingReadRequest<NodeData>(chroot, path, watches, WatchKind.Data, completeOnReadThread)
{
    public override int OpCode => Protocol.OpCode.GetData;

    protected override NodeData ReadValue(ref JuteReader reader) => new(reader.ReadBuffer(), reader.ReadStat());
}

internal sealed class GetChildrenRequest(string chroot, string path, ZooKeeperWatches? watches)
    : WatchingReadRequest<NodeChildren>(chroot, path, watches, WatchKind.Child)
{
    public override int OpCode => Protocol.OpCode.GetChildren2;

    protected override NodeChildren ReadValue(ref JuteReader reader) => new(reader.ReadStrings(), reader.ReadStat());
}

internal sealed class SetDataRequest(string chroot, string path, ReadOnlyMemory<byte> data, int version)
    : ZooKeeperRequest<Stat>(chroot, path)
{
    public override int OpCode => Protocol.OpCode.SetData;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteBuffer(data.Span);
        writer.WriteInt(version);
    }

    protected override Stat Read(ref JuteReader reader) => reader.ReadStat();
}

internal sealed class GetAclRequest(string chroot, string path) : ZooKeeperRequest<NodeAcl>(chroot, path)
{
    public override int OpCode => Protocol.OpCode.GetAcl;

    public override void WriteBody(JuteWriter writer) => writer.WriteString(Chroot, Path!);

    protected override NodeAcl Read(ref JuteReader reader) => new(reader.ReadAcls(), reader.ReadStat());
}

internal sealed class SetAclRequest(string chroot, string path, IReadOnlyList<Acl> acl, int version)
    : ZooKeeperRequest<Stat>(chroot, path)
{
    public override int OpCode => Protocol.OpCode.SetAcl;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteAcls(acl);
        writer.WriteInt(version);
    }

    protected override Stat Read(ref JuteReader reader) => reader.ReadStat();
}

internal sealed class SyncRequest(string chroot, string path) : EmptyReplyRequest(chroot, path)
{
    public override int OpCode => Protocol.OpCode.Sync;

    public override void WriteBody(JuteWriter writer) => writer.WriteString(Chroot, Path!);
}

internal sealed class AddWatchRequest(string chroot, string path, AddWatchMode mode, PersistentWatch watch, ZooKeeperWatches watches)
    : ZooKeeperRequest<PersistentWatch>(chroot, path)
{
    public override int OpCode => Protocol.OpCode.AddWatch;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteInt((int)mode);
    }

    // The reply carries ErrorResponse { int err }, always 0 here; registering on the read loop means no event
    // that follows the reply can be missed.
    protected override PersistentWatch Read(ref JuteReader reader)
    {
        watches.Register(watch);
        return watch;
    }
}

internal sealed class RemoveWatchesRequest(string chroot, string path, WatcherType type) : EmptyReplyRequest(chroot, path)
{
    public override int OpCode => Protocol.OpCode.RemoveWatches;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteString(Chroot, Path!);
        writer.WriteInt((int)type);
    }
}

internal sealed class CloseSessionRequest() : EmptyReplyRequest("", null)
{
    public override int OpCode => Protocol.OpCode.CloseSession;

    public override void WriteBody(JuteWriter writer)
    {
    }
}

/// <summary>setWatches2 (op 105, xid -8): re-arms watches after a reconnect; paths are full server paths.</summary>
internal sealed class SetWatchesRequest(long relativeZxid, IReadOnlyList<string>[] lists) : EmptyReplyRequest("", null)
{
    public override int OpCode => Protocol.OpCode.SetWatches2;

    public override int FixedXid => Protocol.OpCode.SetWatchesXid;

    public override void WriteBody(JuteWriter writer)
    {
        writer.WriteLong(relativeZxid);
        foreach (IReadOnlyList<string> list in lists)
        {
            writer.WriteStrings(list);
        }
    }
}

internal sealed class MultiRequest(string chroot, IReadOnlyList<Op> ops) : ZooKeeperRequest<IReadOnlyList<OpResult>>(chroot, null)
{
    public override int OpCode => Protocol.OpCode.Multi;

    public override void WriteBody(JuteWriter writer)
    {
        foreach (Op op in ops)
        {
            switch (op)
            {
                case CreateOp create:
                    WriteHeader(writer, create.Mode == CreateMode.Container ? Protocol.OpCode.CreateContainer : Protocol.OpCode.Create);
                    writer.WriteString(Chroot, create.Path);
                    writer.WriteBuffer(create.Data.Span);
                    writer.WriteAcls(create.Acl);
                    writer.WriteInt((int)create.Mode);
                    break;
                case DeleteOp delete:
                    WriteHeader(writer, Protocol.OpCode.Delete);
                    writer.WriteString(Chroot, delete.Path);
                    writer.WriteInt(delete.Version);
                    break;
                case SetDataOp setData:
                    WriteHeader(writer, Protocol.OpCode.SetData);
                    writer.WriteString(Chroot, setData.Path);
                    writer.WriteBuffer(setData.Data.Span);
                    writer.WriteInt(setData.Version);
                    break;
                case CheckOp check:
                    WriteHeader(writer, Protocol.OpCode.Check);
                    writer.WriteString(Chroot, check.Path);
                    writer.WriteInt(check.Version);
                    break;
                default:
                    throw new ArgumentException($"Unsupported transaction operation {op.GetType().Name}.", nameof(ops));
            }
        }

        writer.WriteInt(-1);
        writer.WriteBool(true);
        writer.WriteInt(-1);
    }

    // Results are parsed by the type the server returns, never the type that was sent: 3.8 answers a create2
    // inside multi with type 1, and a failed transaction with type -1 for every op.
    protected override IReadOnlyList<OpResult> Read(ref JuteReader reader)
    {
        var results = new List<OpResult>(ops.Count);
        while (true)
        {
            int type = reader.ReadInt();
            bool done = reader.ReadBool();
            reader.ReadInt();
            if (done)
            {
                break;
            }

            results.Add(type switch
            {
                Protocol.OpCode.Create => new CreateResult(Strip(reader.ReadRequiredString())),
                Protocol.OpCode.Create2 or Protocol.OpCode.CreateContainer or Protocol.OpCode.CreateTtl =>
                    ReadCreate2(ref reader),
                Protocol.OpCode.Delete => new DeleteResult(),
                Protocol.OpCode.Check => new CheckResult(),
                Protocol.OpCode.SetData => new SetDataResult(reader.ReadStat()),
                Protocol.OpCode.Error => new ErrorResult((KeeperErrorCode)reader.ReadInt()),
                _ => throw new ZooKeeperProtocolException($"Unexpected multi result type {type}."),
            });
        }

        if (results.Count != ops.Count)
        {
            throw new ZooKeeperProtocolException($"multi returned {results.Count} results for {ops.Count} operations.");
        }

        return results;
    }

    private static void WriteHeader(JuteWriter writer, int type)
    {
        writer.WriteInt(type);
        writer.WriteBool(false);
        writer.WriteInt(-1);
    }

    private CreateResult ReadCreate2(ref JuteReader reader)
    {
        var result = new CreateResult(Strip(reader.ReadRequiredString()));
        reader.ReadStat();
        return result;
    }
}
