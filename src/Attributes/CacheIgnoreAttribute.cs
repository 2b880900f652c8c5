using System;

namespace TypedCache
{
    /// <summary>
    /// Leaves a property out of the cached payload: it is neither written nor read, and after a cache
    /// read it holds its default value (or the value its initializer gives it).
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
    public sealed class CacheIgnoreAttribute : Attribute
    {
    }
}
