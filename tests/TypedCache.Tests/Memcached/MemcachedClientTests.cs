using TypedCache.Memcached;
using TypedCache.Testing;
using static TypedCache.Tests.Memcached.MemcachedTestSupport;

namespace TypedCache.Tests.Memcached;

public class MemcachedClientTests(MemcachedServerFixture fixture) : IClassFixture<MemcachedServerFixture>
{
    private readonly MemcachedServer _server = fixture.Server;
    private readonly string _p = Prefix();

    [Fact]
    public async Task Set_then_get_returns_value_flags_cas_and_ttl()
    {
        await using var client = await ConnectAsync(_server);
        using (var miss = await client.GetAsync(_p + "a"))
        {
            Assert.False(miss.Found);
            Assert.True(miss.Value.IsEmpty);
        }

        var stored = await client.SetAsync(_p + "a", "hello"u8, new MemcachedStoreOptions { Ttl = 60, ClientFlags = 123, ReturnCas = true });
        Assert.Equal(MemcachedStatus.Success, stored.Status);
        Assert.NotEqual(0UL, stored.Cas);

        using var hit = await client.GetAsync(_p + "a");
        Assert.True(hit.Found);
        Assert.Equal("hello", Text(hit.Value));
        Assert.Equal(123U, hit.ClientFlags);
        Assert.Equal(stored.Cas, hit.Cas);
        Assert.InRange(hit.RemainingTtl, 58, 60);
        Assert.False(hit.Won || hit.LeaseTaken || hit.Stale);
        Assert.Equal(-1, hit.Size);
    }

    [Fact]
    public async Task Get_flags_metadata_size_key_touch_and_no_bump()
    {
        await using var client = await ConnectAsync(_server);
        await client.SetAsync(_p + "m", "12345"u8, new MemcachedStoreOptions { Ttl = 100 });

        using (var meta = await client.GetAsync(_p + "m", new MemcachedGetOptions { MetadataOnly = true, ReturnSize = true, ReturnKey = true }))
        {
            Assert.True(meta.Found);
            Assert.Equal(5, meta.Size);
            Assert.Equal(_p + "m", Text(meta.Key));
        }
        using (var missKey = await client.GetAsync(_p + "absent", new MemcachedGetOptions { ReturnKey = true }))
            Assert.False(missKey.Found);

        using (var touched = await client.GetAsync(_p + "m", new MemcachedGetOptions { TouchTtl = 777 }))
            Assert.InRange(touched.RemainingTtl, 776, 777);
        using (var after = await client.GetAsync(_p + "m", new MemcachedGetOptions { NoLruBump = true }))
        {
            Assert.Equal("12345", Text(after.Value));
            Assert.InRange(after.RemainingTtl, 775, 777);
        }
    }

    [Fact]
    public async Task Recache_hands_out_one_win_below_the_threshold()
    {
        await using var client = await ConnectAsync(_server);
        await client.SetAsync(_p + "r", "v"u8, new MemcachedStoreOptions { Ttl = 100 });
        using (var above = await client.GetAsync(_p + "r", new MemcachedGetOptions { RecacheBelowTtl = 30 }))
            Assert.False(above.Won || above.LeaseTaken);
        using (var win = await client.GetAsync(_p + "r", new MemcachedGetOptions { RecacheBelowTtl = 200 }))
            Assert.True(win.Won);
        using (var taken = await client.GetAsync(_p + "r", new MemcachedGetOptions { RecacheBelowTtl = 200 }))
        {
            Assert.False(taken.Won);
            Assert.True(taken.LeaseTaken);
            Assert.Equal("v", Text(taken.Value));
        }
    }

    [Fact]
    public async Task Store_modes_add_replace_append_prepend()
    {
        await using var client = await ConnectAsync(_server);
        var key = _p + "modes";
        Assert.Equal(MemcachedStatus.NotStored, (await client.SetAsync(key, "x"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Replace })).Status);
        Assert.Equal(MemcachedStatus.NotStored, (await client.SetAsync(key, "x"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Append })).Status);
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "b"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Add })).Status);
        Assert.Equal(MemcachedStatus.NotStored, (await client.SetAsync(key, "y"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Add })).Status);
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "c"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Append })).Status);
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "a"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Prepend })).Status);
        using (var abc = await client.GetAsync(key))
            Assert.Equal("abc", Text(abc.Value));
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "R"u8, new MemcachedStoreOptions { Mode = MemcachedStoreMode.Replace })).Status);
        using var replaced = await client.GetAsync(key);
        Assert.Equal("R", Text(replaced.Value));
    }

    [Fact]
    public async Task Compare_and_swap_on_set_and_delete()
    {
        await using var client = await ConnectAsync(_server);
        var key = _p + "cas";
        Assert.Equal(MemcachedStatus.NotFound, (await client.SetAsync(key, "x"u8, new MemcachedStoreOptions { CompareCas = 1 })).Status);
        var first = await client.SetAsync(key, "1"u8, new MemcachedStoreOptions { ReturnCas = true });
        Assert.Equal(MemcachedStatus.Exists, (await client.SetAsync(key, "x"u8, new MemcachedStoreOptions { CompareCas = first.Cas + 1000 })).Status);
        var second = await client.SetAsync(key, "2"u8, new MemcachedStoreOptions { CompareCas = first.Cas, ReturnCas = true });
        Assert.Equal(MemcachedStatus.Success, second.Status);
        Assert.NotEqual(first.Cas, second.Cas);
        Assert.Equal(MemcachedStatus.Exists, await client.DeleteAsync(key, new MemcachedDeleteOptions { CompareCas = first.Cas }));
        Assert.Equal(MemcachedStatus.Success, await client.DeleteAsync(key, new MemcachedDeleteOptions { CompareCas = second.Cas }));
        Assert.Equal(MemcachedStatus.NotFound, await client.DeleteAsync(key));
    }

    [Fact]
    public async Task Lease_round_one_winner_then_invalidation_makes_a_new_winner_and_refuses_the_stale_set()
    {
        await using var a = await ConnectAsync(_server);
        await using var b = await ConnectAsync(_server);
        await using var c = await ConnectAsync(_server);
        var key = _p + "lease";
        var vivify = new MemcachedGetOptions { VivifyOnMissTtl = 30 };

        ulong stubCas;
        using (var winner = await a.GetAsync(key, vivify))
        {
            Assert.True(winner.Won);
            Assert.False(winner.LeaseTaken);
            Assert.True(winner.Value.IsEmpty);
            stubCas = winner.Cas;
        }
        foreach (var other in new[] { b, c })
        {
            using var loser = await other.GetAsync(key, vivify);
            Assert.False(loser.Won);
            Assert.True(loser.LeaseTaken);
            Assert.True(loser.Value.IsEmpty);
        }

        var stored = await a.SetAsync(key, "fresh"u8, new MemcachedStoreOptions { CompareCas = stubCas, Ttl = 300, ReturnCas = true });
        Assert.Equal(MemcachedStatus.Success, stored.Status);
        using (var clean = await b.GetAsync(key, vivify))
        {
            Assert.Equal("fresh", Text(clean.Value));
            Assert.False(clean.Won || clean.LeaseTaken || clean.Stale);
        }

        Assert.Equal(MemcachedStatus.Success, await b.DeleteAsync(key, new MemcachedDeleteOptions { Invalidate = true, Ttl = 30 }));
        ulong staleCas;
        using (var staleWinner = await a.GetAsync(key))
        {
            Assert.True(staleWinner.Stale);
            Assert.True(staleWinner.Won);
            Assert.Equal("fresh", Text(staleWinner.Value));
            Assert.InRange(staleWinner.RemainingTtl, 28, 30);
            staleCas = staleWinner.Cas;
        }
        using (var staleLoser = await b.GetAsync(key))
        {
            Assert.True(staleLoser.Stale);
            Assert.True(staleLoser.LeaseTaken);
            Assert.False(staleLoser.Won);
        }

        Assert.Equal(MemcachedStatus.Exists, (await a.SetAsync(key, "STALE"u8, new MemcachedStoreOptions { CompareCas = stored.Cas })).Status);
        Assert.Equal(MemcachedStatus.Success, (await a.SetAsync(key, "STALE"u8, new MemcachedStoreOptions { CompareCas = stored.Cas, Invalidate = true })).Status);
        using (var stillStale = await c.GetAsync(key))
        {
            Assert.Equal("STALE", Text(stillStale.Value));
            Assert.True(stillStale.Stale);
            Assert.True(stillStale.LeaseTaken);
        }

        using (var current = await a.GetAsync(key, new MemcachedGetOptions { MetadataOnly = true }))
            Assert.Equal(MemcachedStatus.Success, (await a.SetAsync(key, "newer"u8, new MemcachedStoreOptions { CompareCas = current.Cas, Ttl = 300 })).Status);
        using var again = await b.GetAsync(key);
        Assert.Equal("newer", Text(again.Value));
        Assert.False(again.Won || again.LeaseTaken || again.Stale);
        Assert.NotEqual(staleCas, again.Cas);
    }

    [Fact]
    public async Task A_failed_loader_releases_a_stub_lease_so_the_next_reader_wins()
    {
        await using var client = await ConnectAsync(_server);
        var key = _p + "release";
        var vivify = new MemcachedGetOptions { VivifyOnMissTtl = 30 };
        ulong cas;
        using (var won = await client.GetAsync(key, vivify))
        {
            Assert.True(won.Won);
            cas = won.Cas;
        }
        Assert.Equal(MemcachedStatus.Success, await client.DeleteAsync(key, new MemcachedDeleteOptions { CompareCas = cas }));
        using var next = await client.GetAsync(key, vivify);
        Assert.True(next.Won);
    }

    [Fact]
    public async Task Arithmetic_counts_auto_creates_and_refuses_non_numbers_without_losing_the_stream()
    {
        await using var client = await ConnectAsync(_server);
        var key = _p + "ctr";
        Assert.Equal(MemcachedStatus.NotFound, (await client.IncrementAsync(key)).Status);
        var created = await client.IncrementAsync(key, 1, new MemcachedArithmeticOptions { AutoCreateTtl = 0, InitialValue = 10 });
        Assert.Equal((MemcachedStatus.Success, 10UL), (created.Status, created.Value));
        Assert.NotEqual(0UL, created.Cas);
        Assert.Equal(15UL, (await client.IncrementAsync(key, 5)).Value);
        Assert.Equal(6UL, (await client.DecrementAsync(key, 9)).Value);
        Assert.Equal(0UL, (await client.DecrementAsync(key, 100)).Value);
        Assert.Equal(ulong.MaxValue, (await client.IncrementAsync(key, ulong.MaxValue)).Value);
        Assert.Equal(0UL, (await client.IncrementAsync(key, 1, new MemcachedArithmeticOptions { Ttl = 50 })).Value);
        using (var counter = await client.GetAsync(key))
        {
            Assert.Equal("0", Text(counter.Value).TrimEnd());
            Assert.InRange(counter.RemainingTtl, 48, 50);
        }
        var mismatch = await client.IncrementAsync(key, 1, new MemcachedArithmeticOptions { CompareCas = 1 });
        Assert.Equal(MemcachedStatus.Exists, mismatch.Status);

        await client.SetAsync(_p + "text", "abc"u8);
        var error = await Assert.ThrowsAsync<MemcachedException>(async () => await client.IncrementAsync(_p + "text"));
        Assert.Equal(MemcachedErrorKind.ClientError, error.Kind);
        Assert.Equal("ma", error.Command);
        Assert.Contains("non-numeric", error.Message);
        Assert.Equal(1UL, (await client.IncrementAsync(key, 1)).Value);
    }

    [Fact]
    public async Task Binary_keys_round_trip_through_base64()
    {
        await using var client = await ConnectAsync(_server);
        byte[] key = [.. Bytes(_p), 0x00, 0xFF, (byte)' ', (byte)'\r', (byte)'\n'];
        Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, "bin"u8, new MemcachedStoreOptions { BinaryKey = true })).Status);
        using (var hit = await client.GetAsync(key, new MemcachedGetOptions { BinaryKey = true, ReturnKey = true }))
        {
            Assert.Equal("bin", Text(hit.Value));
            Assert.Equal(Convert.ToBase64String(key), Text(hit.Key));
        }
        byte[] counter = [.. Bytes(_p), 0x01, 0x02];
        Assert.Equal(7UL, (await client.IncrementAsync(counter, 1, new MemcachedArithmeticOptions { BinaryKey = true, AutoCreateTtl = 0, InitialValue = 7 })).Value);
        Assert.Equal(8UL, (await client.IncrementAsync(counter, 1, new MemcachedArithmeticOptions { BinaryKey = true })).Value);
        Assert.Equal(MemcachedStatus.Success, await client.DeleteAsync(key, new MemcachedDeleteOptions { BinaryKey = true }));
        using var gone = await client.GetAsync(key, new MemcachedGetOptions { BinaryKey = true });
        Assert.False(gone.Found);

        var longest = new byte[186];
        Random.Shared.NextBytes(longest);
        await client.SetAsync(longest, "L"u8, new MemcachedStoreOptions { BinaryKey = true });
        using var longHit = await client.GetAsync(longest, new MemcachedGetOptions { BinaryKey = true });
        Assert.Equal("L", Text(longHit.Value));
    }

    [Theory]
    [InlineData("sp ace", "whitespace")]
    [InlineData("", "empty")]
    [InlineData("ctl\u0001", "control")]
    public async Task An_invalid_key_throws_before_anything_is_written(string key, string rule)
    {
        await using var client = await ConnectAsync(_server);
        var error = Assert.Throws<ArgumentException>(() => { _ = client.GetAsync(key); });
        Assert.Contains(rule, error.Message);
        Assert.Throws<ArgumentException>(() => { _ = client.SetAsync(key, "v"u8); });
        Assert.Throws<ArgumentException>(() => { _ = client.DeleteAsync(key); });
        Assert.Throws<ArgumentException>(() => { _ = client.IncrementAsync(key); });
        Assert.Throws<ArgumentException>(() => { _ = client.GetManyAsync([_p + "ok", key]); });
        Assert.Throws<ArgumentException>(() => { _ = client.GetAsync(new string('k', 251)); });
        await client.NoOpAsync();
        using var still = await client.GetAsync(_p + "ok");
        Assert.False(still.Found);
    }

    [Fact]
    public async Task Batch_get_maps_hits_and_misses_back_to_their_keys()
    {
        await using var client = await ConnectAsync(_server);
        var keys = Enumerable.Range(0, 64).Select(i => $"{_p}b{i}").ToArray();
        for (int i = 0; i < keys.Length; i += 3)
            await client.SetAsync(keys[i], Bytes("value-" + keys[i]), new MemcachedStoreOptions { ClientFlags = (uint)i });

        using (var batch = await client.GetManyAsync(keys))
        {
            Assert.Equal(64, batch.Count);
            for (int i = 0; i < keys.Length; i++)
            {
                Assert.Equal(i % 3 == 0, batch[i].Found);
                if (i % 3 == 0)
                {
                    Assert.Equal("value-" + keys[i], Text(batch[i].Value));
                    Assert.Equal((uint)i, batch[i].ClientFlags);
                }
            }
        }

        ReadOnlyMemory<byte>[] byteKeys = [Bytes(keys[3]), Bytes(keys[4])];
        using (var bytes = await client.GetManyAsync(byteKeys, new MemcachedGetOptions { ReturnKey = true }))
        {
            Assert.Equal(keys[3], Text(bytes[0].Key));
            Assert.False(bytes[1].Found);
        }
        using var empty = await client.GetManyAsync(ReadOnlySpan<string>.Empty);
        Assert.Equal(0, empty.Count);
    }

    [Fact]
    public async Task Values_from_zero_bytes_to_the_item_size_limit_round_trip_and_one_over_is_refused()
    {
        await using var client = await ConnectAsync(_server);
        var key = _p + "size";
        int limit = 1024 * 1024 - MemcachedClient.ItemOverheadBytes - Bytes(key).Length;
        foreach (int size in new[] { 0, 1, 100, 16 * 1024, 64 * 1024 + 1, 500_000, limit })
        {
            var value = new byte[size];
            Random.Shared.NextBytes(value);
            Assert.Equal(MemcachedStatus.Success, (await client.SetAsync(key, value)).Status);
            using var read = await client.GetAsync(key);
            Assert.True(read.Found);
            Assert.True(read.Value.Span.SequenceEqual(value), $"value of {size} bytes differs");
        }

        var tooBig = new byte[limit + 1];
        var error = Assert.Throws<ArgumentException>(() => { _ = client.SetAsync(key, tooBig); });
        Assert.Contains($"at most {limit} bytes", error.Message);
        using var kept = await client.GetAsync(key, new MemcachedGetOptions { ReturnSize = true });
        Assert.Equal(limit, kept.Size);
    }

    [Fact]
    public async Task Server_error_object_too_large_fails_only_its_command()
    {
        await using var client = await ConnectAsync(_server, new MemcachedClientOptions { MaxItemSizeBytes = 4 * 1024 * 1024 });
        var key = _p + "big";
        var pipelined = client.SetAsync(key + "before", "1"u8);
        var tooLarge = client.SetAsync(key, new byte[2 * 1024 * 1024]);
        var after = client.GetAsync(key + "before");
        Assert.Equal(MemcachedStatus.Success, (await pipelined).Status);
        var error = await Assert.ThrowsAsync<MemcachedException>(async () => await tooLarge);
        Assert.Equal(MemcachedErrorKind.ServerError, error.Kind);
        Assert.Contains("object too large", error.Message);
        Assert.Contains(_server.Endpoint, error.Message);
        using (var hit = await after)
            Assert.Equal("1", Text(hit.Value));
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task Version_stats_flush_and_noop()
    {
        await using var server = await MemcachedServer.StartAsync();
        await using var client = await ConnectAsync(server);
        Assert.Matches(@"^\d+\.\d+\.\d+", await client.GetVersionAsync());
        var settings = await client.GetStatsAsync("settings");
        Assert.Equal("1048576", settings["item_size_max"]);
        var stats = await client.GetStatsAsync();
        Assert.True(long.Parse(stats["pid"], System.Globalization.CultureInfo.InvariantCulture) == server.ProcessId);
        Assert.Throws<ArgumentException>(() => { _ = client.GetStatsAsync("bad group"); });

        await client.SetAsync("flushme", "v"u8);
        await client.FlushAllAsync();
        using var gone = await client.GetAsync("flushme");
        Assert.False(gone.Found);
        await client.NoOpAsync();
    }

    [Fact]
    public async Task A_cancelled_call_completes_at_once_and_the_connection_stays_in_step()
    {
        await using var client = await ConnectAsync(_server);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await client.GetAsync(_p + "c", cancellationToken: cts.Token));
        await client.SetAsync(_p + "c", "v"u8);
        using var hit = await client.GetAsync(_p + "c");
        Assert.Equal("v", Text(hit.Value));
    }
}
