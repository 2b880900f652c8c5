using System.Runtime.CompilerServices;

// The typedcache tool (assembly TypedCache.Cli: "typedcache" would clash with this assembly's name, since assembly
// names compare without case) reads the ring, membership and locks through the cluster and coordination internals.
[assembly: InternalsVisibleTo("TypedCache.Cli")]
[assembly: InternalsVisibleTo("TypedCache.Load")]
