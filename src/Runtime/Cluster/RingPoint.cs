namespace TypedCache.Cluster;

/// <summary>One point of a <see cref="KetamaRing"/>: its 32-bit value and the index of the node that owns it.</summary>
/// <param name="Value">The point's position on the ring, compared as unsigned.</param>
/// <param name="NodeIndex">The owner's index in <see cref="KetamaRing.Nodes"/>.</param>
internal readonly record struct RingPoint(uint Value, int NodeIndex);
