using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Transactions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TypedCache.EntityFrameworkCore;

/// <summary>
/// An EF Core interceptor that, once a change commits, invalidates the cached records of the changed entities through
/// the repositories of <typeparamref name="TContext"/> — in every service, since repositories' invalidations travel
/// through ZooKeeper — as mapped by a <see cref="CacheInvalidationMap{TContext}"/>. It is what "Scaling Memcache at
/// Facebook" does with its commit-log daemon, for EF Core.
/// </summary>
/// <typeparam name="TContext">The application's <see cref="CacheContext"/>.</typeparam>
/// <remarks>
/// <para>
/// Keys are collected when <c>SaveChanges</c> starts and read again when it ends (for store-generated keys). Without
/// an explicit transaction <c>SaveChanges</c> commits its own, and the keys are invalidated before
/// <c>SaveChanges</c>/<c>SaveChangesAsync</c> returns. Inside a transaction begun through
/// <c>Database.BeginTransaction</c> (or <c>UseTransaction</c>), the keys of every save wait for the commit and are
/// invalidated before <c>Commit</c>/<c>CommitAsync</c> returns; a rollback (also a transaction disposed without a
/// commit), a failed or cancelled <c>SaveChanges</c> invalidates nothing. Inside an ambient <see cref="TransactionScope"/>, the keys are invalidated when the
/// transaction completes as committed. A commit whose outcome is unknown (it threw) invalidates, since an extra
/// invalidation only costs a reload. Commit through EF Core (<c>IDbContextTransaction</c> or the scope): a raw
/// <see cref="DbTransaction"/> committed behind EF Core's back is not seen. <c>ExecuteUpdate</c> and
/// <c>ExecuteDelete</c> bypass change tracking: invalidate after them yourself (for example with
/// <c>InvalidateAllAsync</c>).
/// </para>
/// <para>
/// Invalidation runs after the commit with no cancellation (the data has changed, the cache must follow); an
/// exception from it reaches the caller of <c>SaveChanges</c> or <c>Commit</c> although the data is committed.
/// One interceptor may serve many <see cref="DbContext"/> instances at once.
/// </para>
/// </remarks>
public sealed class CacheInvalidationInterceptor<TContext> : ISaveChangesInterceptor, IDbTransactionInterceptor
    where TContext : CacheContext
{
    private readonly TContext _cache;
    private readonly IReadOnlyList<IEntityInvalidation<TContext>> _entities;
    private readonly ConditionalWeakTable<DbContext, ContextState> _states = new();

    /// <summary>Creates the interceptor; add it to a context with <c>AddInterceptors</c>, or use <c>AddTypedCacheInvalidation</c>.</summary>
    /// <param name="cache">The cache whose records are invalidated.</param>
    /// <param name="map">Declares which cached records each entity type feeds.</param>
    public CacheInvalidationInterceptor(TContext cache, Action<CacheInvalidationMap<TContext>> map)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(map);
        var declared = new CacheInvalidationMap<TContext>();
        map(declared);
        _cache = cache;
        _entities = declared.Entities;
    }

    /// <inheritdoc/>
    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData);
        return result;
    }

    /// <inheritdoc/>
    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData);
        return ValueTask.FromResult(result);
    }

    /// <inheritdoc/>
    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (Saved(eventData) is { } now)
            InvalidateAsync(now).AsTask().GetAwaiter().GetResult();
        return result;
    }

    /// <inheritdoc/>
    public async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (Saved(eventData) is { } now)
            await InvalidateAsync(now).ConfigureAwait(false);
        return result;
    }

    /// <inheritdoc/>
    public void SaveChangesFailed(DbContextErrorEventData eventData) => State(eventData)?.Saving.Clear();

    /// <inheritdoc/>
    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void SaveChangesCanceled(DbContextEventData eventData) => State(eventData)?.Saving.Clear();

    /// <inheritdoc/>
    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesCanceled(eventData);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (Ended(eventData) is { } committed)
            InvalidateAsync(committed).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public async Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Ended(eventData) is { } committed)
            await InvalidateAsync(committed).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Ended(eventData);

    /// <inheritdoc/>
    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(eventData);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
    {
        if (Ended(eventData) is { } pending && IsCommit(eventData))
            InvalidateAsync(pending).AsTask().GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public async Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        if (Ended(eventData) is { } pending && IsCommit(eventData))
            await InvalidateAsync(pending).ConfigureAwait(false);
    }

    private static bool IsCommit(TransactionErrorEventData eventData) => eventData.Action == "Commit";

    private ContextState? State(DbContextEventData eventData) =>
        eventData.Context is { } context && _states.TryGetValue(context, out var state) ? state : null;

    /// <summary>At the start of a save: the keys of the original values, and the entities whose keys are read after the save.</summary>
    private void Collect(DbContextEventData eventData)
    {
        if (eventData.Context is not { } context)
            return;
        var state = _states.GetValue(context, static _ => new ContextState());
        state.Saving.Clear();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
                continue;
            object? original = null;
            foreach (var entity in _entities)
            {
                if (!entity.Maps(entry.Entity))
                    continue;
                if (entry.State is not EntityState.Added)
                {
                    original ??= entry.OriginalValues.ToObject();
                    state.Saving.Keys.Add(entity.KeyOf(original));
                }

                if (entry.State is not EntityState.Deleted)
                    state.Saving.Entities.Add((entity, entry.Entity));
            }
        }
    }

    /// <summary>At the end of a successful save: the keys to invalidate now, or null when they wait for a commit (or there are none).</summary>
    private HashSet<PendingInvalidation<TContext>>? Saved(DbContextEventData eventData)
    {
        if (eventData.Context is not { } context || State(eventData) is not { } state)
            return null;
        var keys = state.Saving.Keys;
        foreach (var (entity, saved) in state.Saving.Entities)
            keys.Add(entity.KeyOf(saved));
        if (keys.Count == 0)
            return null;
        var saving = state.Saving.Take();

        if (context.Database.CurrentTransaction is { } transaction)
        {
            state.AddForCommit(transaction.TransactionId, saving);
            return null;
        }

        if (Transaction.Current is { } ambient)
        {
            ambient.TransactionCompleted += (_, e) =>
            {
                if (e.Transaction?.TransactionInformation.Status == TransactionStatus.Committed)
                    InvalidateAsync(saving).AsTask().GetAwaiter().GetResult();
            };
            return null;
        }

        return saving;
    }

    /// <summary>At the end of a transaction: takes the keys that waited for it.</summary>
    private HashSet<PendingInvalidation<TContext>>? Ended(TransactionEventData eventData) =>
        State(eventData)?.TakeForCommit(eventData.TransactionId);

    private async ValueTask InvalidateAsync(HashSet<PendingInvalidation<TContext>> keys)
    {
        if (keys.Count == 1)
        {
            await keys.First().InvalidateAsync(_cache, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        await Task.WhenAll(keys.Select(key => key.InvalidateAsync(_cache, CancellationToken.None).AsTask())).ConfigureAwait(false);
    }

    /// <summary>What one <see cref="DbContext"/> has in flight; a context is used by one thread at a time.</summary>
    private sealed class ContextState
    {
        private Guid _transactionId;
        private HashSet<PendingInvalidation<TContext>>? _forCommit;

        public SaveInFlight Saving { get; } = new();

        public void AddForCommit(Guid transactionId, HashSet<PendingInvalidation<TContext>> keys)
        {
            if (_forCommit is null || _transactionId != transactionId)
            {
                // The keys of an earlier transaction that was disposed without a commit (a rollback) go.
                _transactionId = transactionId;
                _forCommit = keys;
                return;
            }

            _forCommit.UnionWith(keys);
        }

        public HashSet<PendingInvalidation<TContext>>? TakeForCommit(Guid transactionId)
        {
            if (_forCommit is null || _transactionId != transactionId)
                return null;
            var keys = _forCommit;
            _forCommit = null;
            return keys;
        }
    }

    /// <summary>The save in flight.</summary>
    private sealed class SaveInFlight
    {
        public HashSet<PendingInvalidation<TContext>> Keys { get; private set; } = [];

        public List<(IEntityInvalidation<TContext> Entity, object Saved)> Entities { get; } = [];

        public HashSet<PendingInvalidation<TContext>> Take()
        {
            var keys = Keys;
            Keys = [];
            Entities.Clear();
            return keys;
        }

        public void Clear()
        {
            Keys.Clear();
            Entities.Clear();
        }
    }
}
