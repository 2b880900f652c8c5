using TypedCache.TestWorker;

// A second process for TypedCache's integration tests: `dotnet TypedCache.TestWorker.dll <command> [--name value]...`.
// Each command prints `<command>: ok` as its last line on success; failures go to stderr with exit code 1.
return await WorkerCommands.RunAsync(args).ConfigureAwait(false);
