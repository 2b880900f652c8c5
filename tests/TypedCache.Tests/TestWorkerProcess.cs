using TypedCache.Testing;

namespace TypedCache.Tests;

/// <summary>
/// Runs tests/TypedCache.TestWorker as a second process (<c>dotnet TypedCache.TestWorker.dll command --name value...</c>),
/// built by <c>dotnet build TypedCache.sln</c> in the same configuration as this test assembly. Disposing it kills the
/// process by its PID.
/// </summary>
internal sealed class TestWorkerProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly string _command;

    private TestWorkerProcess(ChildProcess process, string command)
    {
        _process = process;
        _command = command;
    }

    public int ProcessId => _process.Id;

    public static TestWorkerProcess Start(string command, params string[] arguments)
    {
        // bin/{Configuration}/{tfm}/ of this assembly, mirrored for the worker.
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        string testsDirectory = testOutput.Parent.Parent!.Parent!.Parent!.FullName;
        string dll = Path.Combine(testsDirectory, "TypedCache.TestWorker", "bin", configuration, framework, "TypedCache.TestWorker.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: build the solution (dotnet build TypedCache.sln -c {configuration}) before running the tests.", dll);
        }

        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "/usr/bin/dotnet";
        return new TestWorkerProcess(ChildProcess.Start(dotnet, [dll, command, .. arguments]), command);
    }

    /// <summary>Waits for the worker to finish and fails with its output unless it reported success.</summary>
    public async Task WaitForSuccessAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The worker did not finish within {timeout.TotalSeconds:0} s: {_process.Describe()}");
        }

        Assert.True(_process.Output.Contains($"{_command}: ok", StringComparison.Ordinal), _process.Describe());
    }

    public void Dispose() => _process.Dispose();
}
