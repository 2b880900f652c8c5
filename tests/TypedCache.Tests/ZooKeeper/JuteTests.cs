using System.Text;
using TypedCache.ZooKeeper;
using TypedCache.ZooKeeper.Protocol;

namespace TypedCache.Tests.ZooKeeper;

/// <summary>Encoders and parsers against the bytes captured from a ZooKeeper 3.8.0 server (protocols.md §13).</summary>
public sealed class JuteTests
{
    private static readonly byte[] SessionPassword = Convert.FromHexString("9a2e54da3713c91d7fd43770b75dab06");

    [Fact]
    public void ConnectRequest_matches_the_captured_bytes()
    {
        var buffer = new FrameBuffer();
        Handshake.WriteRequest(buffer, lastZxidSeen: 0, timeoutMs: 30000, sessionId: 0, password: new byte[16], readOnly: false);

        Assert.Equal(
            Hex("0000002d 00000000 0000000000000000 00007530 0000000000000000 00000010 00000000000000000000000000000000 00"),
            buffer.Written.ToArray());
    }

    [Fact]
    public void ConnectResponse_is_parsed_with_and_without_the_readOnly_byte()
    {
        byte[] body = Hex("00000000 00007530 0100000363ab0025 00000010 9a2e54da3713c91d7fd43770b75dab06 00");

        ConnectResponse withFlag = Handshake.ReadResponse(body);
        ConnectResponse withoutFlag = Handshake.ReadResponse(body.AsSpan(0, body.Length - 1));

        foreach (ConnectResponse response in new[] { withFlag, withoutFlag })
        {
            Assert.Equal(30000, response.TimeoutMs);
            Assert.Equal(0x0100000363ab0025, response.SessionId);
            Assert.Equal(SessionPassword, response.Password);
            Assert.False(response.ReadOnly);
        }
    }

    [Fact]
    public void Expired_ConnectResponse_has_timeout_zero()
    {
        ConnectResponse response = Handshake.ReadResponse(Hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00"));

        Assert.Equal(0, response.TimeoutMs);
        Assert.Equal(0, response.SessionId);
    }

    [Fact]
    public void Create_request_matches_the_captured_bytes_except_its_create2_op_code()
    {
        var request = new CreateRequest("", "/zk-demo", "hello"u8.ToArray(), Acl.OpenUnsafe, CreateMode.Persistent, 0);

        byte[] frame = WriteFrame(request, xid: 1);

        // Captured with op 1 (create); the client always sends op 15 (create2) so the reply carries the Stat.
        byte[] expected = Hex("0000003c 00000001 00000001 00000008 2f7a6b2d64656d6f 00000005 68656c6c6f 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000000");
        expected[11] = 15;
        Assert.Equal(expected, frame);
    }

    [Fact]
    public async Task Chroot_is_prefixed_to_outgoing_paths_and_stripped_from_returned_ones()
    {
        var request = new CreateRequest("/app", "/zk-demo", "hello"u8.ToArray(), Acl.OpenUnsafe, CreateMode.Persistent, 0);
        byte[] frame = WriteFrame(request, xid: 1);
        Assert.Equal("/app/zk-demo", Encoding.UTF8.GetString(frame, 16, 12));

        request.Complete(new ReplyHeader(1, 0x83, 0), [.. Hex("0000000c"), .. "/app/zk-demo"u8, .. StatBytes()]);
        Assert.Equal("/zk-demo", (await request.Task).Path);

        Assert.Equal("/", ZooKeeperConnectString.StripChroot("/app", "/app"));
        Assert.Equal("/application", ZooKeeperConnectString.StripChroot("/app", "/application"));
    }

    [Fact]
    public void GetData_request_with_watch_matches_the_captured_bytes()
    {
        var request = new GetDataRequest("", "/zk-demo", new ZooKeeperWatches());

        Assert.Equal(Hex("00000015 00000002 00000004 00000008 2f7a6b2d64656d6f 01"), WriteFrame(request, xid: 2));
    }

    [Fact]
    public async Task GetData_reply_is_parsed_with_its_Stat()
    {
        var request = new GetDataRequest("", "/zk-demo", null);

        request.Complete(new ReplyHeader(2, 0x83, 0), [.. Hex("00000005 68656c6c6f"), .. StatBytes()]);

        NodeData data = await request.Task;
        Assert.Equal("hello"u8.ToArray(), data.Data);
        Assert.Equal(new Stat(0x83, 0x83, 0x1a20b0e9579, 0x1a20b0e9579, 0, 0, 0, 0, 5, 0, 0x83), data.Stat);
    }

    [Fact]
    public async Task Error_reply_becomes_the_typed_exception_with_the_path()
    {
        var request = new GetDataRequest("", "/missing", null);

        request.Complete(new ReplyHeader(3, 2, -101), default);

        var error = await Assert.ThrowsAsync<NoNodeException>(() => request.Task);
        Assert.Equal(KeeperErrorCode.NoNode, error.Code);
        Assert.Equal("/missing", error.Path);
    }

    [Fact]
    public async Task Exists_on_a_missing_node_is_null_and_arms_an_exist_watch()
    {
        var watches = new ZooKeeperWatches();
        var request = new ExistsRequest("", "/later", watches);

        request.Complete(new ReplyHeader(1, 5, -101), default);
        watches.Deliver(WatchEventType.NodeCreated, "/later");

        Assert.Null(await request.Task);
        Assert.Equal(new WatchedEvent(WatchEventType.NodeCreated, "/later"), await request.Watch!.Task);
    }

    [Fact]
    public void Delete_request_matches_the_captured_bytes()
    {
        Assert.Equal(
            Hex("00000018 00000003 00000002 00000008 2f7a6b2d64656d6f 00000000"),
            WriteFrame(new DeleteRequest("", "/zk-demo", 0), xid: 3));
    }

    [Fact]
    public void Notification_and_reply_headers_are_parsed()
    {
        var reader = new JuteReader(Hex("ffffffff ffffffffffffffff 00000000 00000002 00000003 00000008 2f7a6b2d64656d6f"));

        Assert.Equal(new ReplyHeader(-1, -1, 0), ReplyHeader.Read(ref reader));
        Assert.Equal((int)WatchEventType.NodeDeleted, reader.ReadInt());
        Assert.Equal(3, reader.ReadInt());
        Assert.Equal("/zk-demo", reader.ReadString());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void Multi_request_writes_headers_records_and_the_terminator()
    {
        var request = new MultiRequest("", [Op.Check("/a", 3), Op.Delete("/b", -1)]);

        Assert.Equal(
            Hex("00000037 00000007 0000000e" +
                "0000000d 00 ffffffff 00000002 2f61 00000003" +
                "00000002 00 ffffffff 00000002 2f62 ffffffff" +
                "ffffffff 01 ffffffff"),
            WriteFrame(request, xid: 7));
    }

    [Fact]
    public async Task Failed_multi_reply_is_parsed_by_the_returned_types()
    {
        var request = new MultiRequest("", [Op.Check("/a", 0), Op.Create("/b", default), Op.Delete("/c"), Op.SetData("/d", default)]);

        request.Complete(
            new ReplyHeader(1, 9, 0),
            Hex("ffffffff 00 00000000 00000000" +
                "ffffffff 00 00000000 00000000" +
                "ffffffff 00 ffffff9b ffffff9b" +
                "ffffffff 00 fffffffe fffffffe" +
                "ffffffff 01 ffffffff"));

        Assert.Equal(
            new OpResult[]
            {
                new ErrorResult(KeeperErrorCode.Ok), new ErrorResult(KeeperErrorCode.Ok),
                new ErrorResult(KeeperErrorCode.NoNode), new ErrorResult(KeeperErrorCode.RuntimeInconsistency),
            },
            await request.Task);
    }

    [Fact]
    public async Task Create2_inside_multi_may_come_back_as_type_1()
    {
        var request = new MultiRequest("/root", [Op.Create("/n", default, CreateMode.PersistentSequential)]);

        request.Complete(new ReplyHeader(1, 9, 0), [.. Hex("00000001 00 00000000 00000011"), .. "/root/n0000000001"u8, .. Hex("ffffffff 01 ffffffff")]);

        Assert.Equal(new CreateResult("/n0000000001"), Assert.Single(await request.Task));
    }

    [Theory]
    [InlineData("00000005 6865")] // buffer longer than the record
    [InlineData("0000")] // short int
    [InlineData("fffffffe")] // negative length other than -1
    public void Truncated_or_malformed_records_throw_protocol_errors(string hex)
    {
        byte[] bytes = Hex(hex);

        Assert.Throws<ZooKeeperProtocolException>(() => new JuteReader(bytes).ReadBuffer());
    }

    [Fact]
    public void Hostile_vector_count_is_rejected_before_allocating()
    {
        byte[] bytes = Hex("7fffffff 00000000");

        Assert.Throws<ZooKeeperProtocolException>(() => new JuteReader(bytes).ReadStrings());
    }

    [Fact]
    public void Null_buffers_and_vectors_read_as_empty()
    {
        var reader = new JuteReader(Hex("ffffffff ffffffff"));

        Assert.Empty(reader.ReadBuffer());
        Assert.Empty(reader.ReadStrings());
    }

    [Fact]
    public void Digest_acl_matches_the_servers_test_vector()
    {
        Assert.Equal("user:5w9W4eL3797Y4Wq8AcKUPPk8ha4=", Acl.Digest("user", "secret", Permissions.All).Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative")]
    [InlineData("/trailing/")]
    [InlineData("/a//b")]
    [InlineData("/a/./b")]
    [InlineData("/a/../b")]
    [InlineData("/a/..")]
    [InlineData("/nul\0")]
    [InlineData("/ctl\u0001")]
    [InlineData("/surrogate\ud800")]
    public void Invalid_paths_are_rejected(string path)
    {
        Assert.Throws<ArgumentException>(() => ZooKeeperPath.Validate(path));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/a")]
    [InlineData("/a/b.c/..d/...")]
    [InlineData("/zk-demo/ünïcode")]
    public void Valid_paths_are_accepted(string path)
    {
        ZooKeeperPath.Validate(path);
    }

    [Fact]
    public void Connect_strings_parse_hosts_ports_ipv6_and_chroot()
    {
        var parsed = ZooKeeperConnectString.Parse("127.0.0.1:2182, zk2 ,[::1]:2183/app/x");

        Assert.Equal([("127.0.0.1", 2182), ("zk2", 2181), ("::1", 2183)], parsed.Hosts);
        Assert.Equal("/app/x", parsed.Chroot);
        Assert.Equal("", ZooKeeperConnectString.Parse("h:1/").Chroot);
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectString.Parse("h:99999"));
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectString.Parse("h:1/bad/"));
        Assert.Throws<ArgumentException>(() => ZooKeeperConnectString.Parse(","));
    }

    [Fact]
    public void Keeper_codes_map_to_typed_exceptions()
    {
        foreach (KeeperErrorCode code in Enum.GetValues<KeeperErrorCode>().Where(c => c != KeeperErrorCode.Ok))
        {
            KeeperException error = KeeperException.Create(code, "/p");
            Assert.Equal(code, error.Code);
            Assert.Equal(code + "Exception", error.GetType().Name);
        }
    }

    internal static byte[] Hex(string spaced) => Convert.FromHexString(spaced.Replace(" ", "", StringComparison.Ordinal));

    private static byte[] StatBytes() =>
        Hex("0000000000000083 0000000000000083 000001a20b0e9579 000001a20b0e9579 00000000 00000000 00000000 0000000000000000 00000005 00000000 0000000000000083");

    private static byte[] WriteFrame(ZooKeeperRequest request, int xid)
    {
        var buffer = new FrameBuffer();
        var writer = new JuteWriter(buffer);
        int start = writer.BeginFrame();
        writer.WriteInt(xid);
        writer.WriteInt(request.OpCode);
        request.WriteBody(writer);
        writer.EndFrame(start);
        return buffer.Written.ToArray();
    }
}
