namespace TypedCache.Cluster;

/// <summary>
/// Holds the current <see cref="KetamaRing"/> and replaces it atomically: a reader takes
/// <see cref="Current"/> once per operation and uses that one ring throughout, so it never sees half of a
/// membership change.
/// </summary>
internal sealed class RingHolder
{
    private KetamaRing _current;

    public RingHolder(KetamaRing initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _current = initial;
    }

    /// <summary>The ring in force now.</summary>
    public KetamaRing Current => Volatile.Read(ref _current);

    /// <summary>Puts <paramref name="next"/> in force and returns the ring it replaced.</summary>
    public KetamaRing Exchange(KetamaRing next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return Interlocked.Exchange(ref _current, next);
    }

    /// <summary>
    /// Replaces the current ring with <paramref name="change"/>'s result, retrying on a concurrent
    /// replacement, so that two writers (an ejection and a membership rebuild) never lose each other's
    /// change. <paramref name="change"/> may run more than once and must have no side effects.
    /// Returns the ring put in force.
    /// </summary>
    public KetamaRing Update(Func<KetamaRing, KetamaRing> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        while (true)
        {
            var current = Current;
            var next = change(current) ?? throw new InvalidOperationException("A ring update returned no ring.");
            if (ReferenceEquals(Interlocked.CompareExchange(ref _current, next, current), current))
                return next;
        }
    }
}
