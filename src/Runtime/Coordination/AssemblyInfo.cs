using System.Runtime.CompilerServices;

// The test worker runs the coordination recipes in a second process for the multi-process lock tests.
[assembly: InternalsVisibleTo("TypedCache.TestWorker")]
