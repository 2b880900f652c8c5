namespace TypedCache.Load.Measure;

/// <summary>What one measured operation was; each kind has a latency histogram of its own.</summary>
internal enum OperationKind
{
    /// <summary>A read answered from the cache (no loader call).</summary>
    ReadHit,

    /// <summary>A read that missed and so called the loader (for a plain get, one that found nothing).</summary>
    ReadMiss,

    /// <summary>A set of a new value.</summary>
    Write,

    /// <summary>A removal of a key.</summary>
    Invalidate,

    /// <summary>A distributed lock taken (<c>lock-storm</c>).</summary>
    Lock,
}

internal static class OperationKinds
{
    public static IReadOnlyList<OperationKind> All { get; } = Enum.GetValues<OperationKind>();

    public static OperationKind Read(bool hit) => hit ? OperationKind.ReadHit : OperationKind.ReadMiss;

    public static bool IsRead(this OperationKind kind) => kind is OperationKind.ReadHit or OperationKind.ReadMiss;

    /// <summary>The name of the kind in the report.</summary>
    public static string Label(this OperationKind kind) => kind switch
    {
        OperationKind.ReadHit => "read hit",
        OperationKind.ReadMiss => "read miss",
        OperationKind.Write => "write",
        OperationKind.Invalidate => "invalidate",
        OperationKind.Lock => "lock",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown operation kind"),
    };
}
