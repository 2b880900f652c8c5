using System;

namespace TypedCache
{
    /// <summary>
    /// Marks a property (or a positional record parameter, with <c>[property: CacheKey]</c>) as a part of
    /// the cached type's key. The generated repository takes the key parts as typed parameters, in
    /// <see cref="Order"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// [Cached]
    /// public partial record Stock([property: CacheKey(Order = 0)] int WarehouseId,
    ///                             [property: CacheKey(Order = 1)] string Sku, int Quantity);
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
    public sealed class CacheKeyAttribute : Attribute
    {
        /// <summary>
        /// The position of this part in the key, starting at 0; parts are ordered by it and each order is
        /// used once per type. Default: 0, enough for a type with a single key part.
        /// </summary>
        public int Order { get; set; }
    }
}
