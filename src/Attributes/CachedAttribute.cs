using System;

namespace TypedCache
{
    /// <summary>
    /// Marks a <c>partial</c> record or class as a cached type. TypedCache's source generator emits a
    /// MessagePack formatter, a key builder and a typed repository (<c>{Type}Repo</c>) for it.
    /// </summary>
    /// <remarks>
    /// The type must be <c>partial</c> and have at least one member marked with <see cref="CacheKeyAttribute"/>.
    /// </remarks>
    /// <example>
    /// <code>
    /// [Cached(TtlSeconds = 600, Tags = new[] { "catalog" })]
    /// public partial record Product([property: CacheKey] int Id, string Name, decimal Price);
    /// </code>
    /// </example>
    [AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
    public sealed class CachedAttribute : Attribute
    {
        /// <summary>
        /// How long an entry lives in the distributed cache (memcached), in seconds. Must be positive.
        /// Default: 300 (five minutes).
        /// </summary>
        public int TtlSeconds { get; set; } = 300;

        /// <summary>
        /// How long an entry lives in the in-process cache, in seconds. Must be positive when set.
        /// Default: 0, which means the same as <see cref="TtlSeconds"/>.
        /// </summary>
        public int LocalTtlSeconds { get; set; }

        /// <summary>
        /// Tags the type's entries carry; invalidating a tag invalidates every entry of every type that
        /// carries it. Each tag is 1 to 64 characters of letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.
        /// Default: none.
        /// </summary>
        public string[]? Tags { get; set; }

        /// <summary>
        /// The name the type goes by in cache keys and in ZooKeeper (its version counter).
        /// Default: <see langword="null"/>, which means the type's own name. Set it to keep keys stable
        /// across a rename, or to tell apart two types of the same name in different namespaces.
        /// </summary>
        public string? Name { get; set; }
    }
}
