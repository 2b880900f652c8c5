using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("TypedCache.Api.Tests")]
