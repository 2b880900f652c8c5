using TypedCache.Coordination;
using TypedCache.Memcached;
using TypedCache.ZooKeeper;

namespace TypedCache.Cluster;

/// <summary>Settings of a <see cref="MemcachedRegistrar"/>.</summary>
internal sealed class MemcachedRegistrarOptions
{
    /// <summary>How often the server is checked with <c>mn</c>. Default 500 ms.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How many checks in a row must fail before the znode is removed. Default 2.</summary>
    public int FailureThreshold { get; set; } = 2;

    /// <summary>The settings of the client that checks the server; its clock also drives the checks. Default: a 1 s operation timeout and reconnects at most <see cref="CheckInterval"/> apart.</summary>
    public MemcachedClientOptions? ClientOptions { get; set; }

    internal MemcachedClientOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CheckInterval, TimeSpan.Zero, nameof(CheckInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(FailureThreshold, 1, nameof(FailureThreshold));
        var client = ClientOptions ?? new MemcachedClientOptions { ReconnectMaxDelay = CheckInterval };
        client.Validate();
        return client;
    }
}

/// <summary>
/// Puts one memcached server into the cluster's ZooKeeper membership for as long as it answers: checks it with
/// <c>mn</c> every <see cref="MemcachedRegistrarOptions.CheckInterval"/>, holds its ephemeral
/// <c>{root}/nodes/{host}:{port}</c> (<c>{"weight":N}</c>) while it answers, deletes it after
/// <see cref="MemcachedRegistrarOptions.FailureThreshold"/> failed checks in a row, and creates it again when the
/// server answers again. Disposing deletes the znode.
/// </summary>
internal sealed class MemcachedRegistrar : IAsyncDisposable
{
    private readonly CoordinationRoot _root;
    private readonly MemcachedRegistrarOptions _options;
    private readonly MemcachedClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Member _member;
    private MemberRegistration? _registration;
    private Task _loop = Task.CompletedTask;

    private MemcachedRegistrar(CoordinationRoot root, RingNode server, MemcachedRegistrarOptions options)
    {
        _root = root;
        _options = options;
        Server = server;
        _member = new Member(server.Host, server.Port, server.Weight);
        _client = new MemcachedClient(server.Host, server.Port, options.Validate());
    }

    /// <summary>The server registered.</summary>
    public RingNode Server { get; }

    /// <summary>Whether the server's znode is held now.</summary>
    public bool IsRegistered => Volatile.Read(ref _registration) is { IsRegistered: true };

    /// <summary>Raised when the znode is created (true) or removed because the server stopped answering (false); on the registrar's loop.</summary>
    public event EventHandler<bool>? RegistrationChanged;

    /// <summary>Raised when a check fails or a registration attempt fails, with the cause; on the registrar's loop.</summary>
    public event EventHandler<Exception>? CheckFailed;

    /// <summary>Starts checking <paramref name="server"/> and registering it under <paramref name="root"/>.</summary>
    public static MemcachedRegistrar Start(CoordinationRoot root, RingNode server, MemcachedRegistrarOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(server);
        var registrar = new MemcachedRegistrar(root, server, options ?? new MemcachedRegistrarOptions());
        registrar._loop = Task.Run(registrar.RunAsync, CancellationToken.None);
        return registrar;
    }

    /// <summary>Stops checking and deletes the znode.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_registration is not null)
            await _registration.DisposeAsync().ConfigureAwait(false);
        await _client.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var timeProvider = _options.ClientOptions?.TimeProvider ?? TimeProvider.System;
        int failures = 0;
        try
        {
            while (true)
            {
                try
                {
                    await _client.WaitUntilConnectedAsync(_options.CheckInterval, stop).ConfigureAwait(false);
                    await _client.NoOpAsync(stop).ConfigureAwait(false);
                    failures = 0;
                    if (_registration is null)
                    {
                        Volatile.Write(ref _registration, await MemberRegistration.StartAsync(_root, _member, stop).ConfigureAwait(false));
                        RegistrationChanged?.Invoke(this, true);
                    }
                }
                catch (MemcachedException e)
                {
                    CheckFailed?.Invoke(this, e);
                    if (++failures >= _options.FailureThreshold && _registration is { } registration)
                    {
                        Volatile.Write(ref _registration, null);
                        await registration.DisposeAsync().ConfigureAwait(false);
                        RegistrationChanged?.Invoke(this, false);
                    }
                }
                catch (KeeperException e)
                {
                    CheckFailed?.Invoke(this, e);
                }
                await Task.Delay(_options.CheckInterval, timeProvider, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
