using System.Diagnostics;
using TypedCache.Load.Measure;
using TypedCache.Load.Servers;

namespace TypedCache.Load.Workers;

/// <summary>
/// N worker processes (this tool in its worker mode) driving one cache; their ticks land in one <see cref="Timeline"/>.
/// Each is stopped by its PID: <c>stop</c> on stdin, then SIGKILL when it has not exited within a grace period.
/// </summary>
internal sealed class WorkerFleet : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly List<WorkerProcess> _workers = [];
    private Timeline? _timeline;

    public static async Task<WorkerFleet> StartAsync(WorkerSpec spec, int count, ProcessLog log, CancellationToken cancellationToken)
    {
        var fleet = new WorkerFleet();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var worker = WorkerProcess.Start(spec with { Seed = spec.Seed + i }, fleet);
                fleet._workers.Add(worker);
                log.Add(worker.ProcessId, $"{spec.Engine} worker {i + 1}");
            }
            await Task.WhenAll(fleet._workers.Select(w => w.Ready.WaitAsync(ReadyTimeout, cancellationToken)));
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
        return fleet;
    }

    /// <summary>Completes when every worker has exited (its operation budget spent, or a failure).</summary>
    public Task Exited => Task.WhenAll(_workers.Select(w => w.Exited));

    /// <summary>Starts the load on every worker and a timeline at this instant.</summary>
    public Timeline Go()
    {
        _timeline = new Timeline(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var worker in _workers)
            worker.Send("go");
        return _timeline;
    }

    internal void OnTick(WorkerTick tick) => _timeline?.Add(tick);

    /// <summary>Asks every worker to stop and waits for them to exit; one that does not within 10 s is killed.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers)
            worker.Send("stop");
        await Task.WhenAll(_workers.Select(w => w.StopAsync(TimeSpan.FromSeconds(10))));
        var failures = _workers.Where(w => w.Failure is not null).Select(w => w.Failure).ToList();
        _workers.Clear();
        if (failures.Count > 0)
            throw new InvalidOperationException($"a worker failed: {failures[0]}");
    }

    private sealed class WorkerProcess
    {
        private readonly Process _process;
        private readonly WorkerFleet _fleet;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _errors = [];

        private WorkerProcess(Process process, WorkerFleet fleet)
        {
            _process = process;
            _fleet = fleet;
            ProcessId = process.Id;
        }

        public int ProcessId { get; }

        public Task Ready => _ready.Task;

        public Task Exited => _exited.Task;

        public string? Failure { get; private set; }

        public static WorkerProcess Start(WorkerSpec spec, WorkerFleet fleet)
        {
            var info = new ProcessStartInfo(DotNet())
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(typeof(Worker).Assembly.Location);
            info.ArgumentList.Add("worker");
            info.ArgumentList.Add(spec.ToArgument());
            var process = Process.Start(info) ?? throw new InvalidOperationException("could not start a worker process");
            var worker = new WorkerProcess(process, fleet);
            process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => worker.OnError(e.Data);
            process.Exited += (_, _) =>
            {
                worker._ready.TrySetException(new InvalidOperationException($"worker {worker.ProcessId} exited before it was ready: {string.Join(" | ", worker._errors)}"));
                worker._exited.TrySetResult();
            };
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        public void Send(string line)
        {
            try
            {
                _process.StandardInput.WriteLine(line);
                _process.StandardInput.Flush();
            }
            catch (IOException)
            {
                // The worker is gone already; StopAsync reports why.
            }
        }

        public async Task StopAsync(TimeSpan grace)
        {
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
                await _process.WaitForExitAsync(CancellationToken.None);
                Failure ??= $"worker {ProcessId} did not stop within {grace.TotalSeconds} s and was killed";
            }
            if (_process.ExitCode != 0 && Failure is null)
                Failure = $"worker {ProcessId} exited with {_process.ExitCode}: {string.Join(" | ", _errors.Take(5))}";
            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
                return;
            if (line == "ready")
                _ready.TrySetResult();
            else if (WorkerTick.TryParse(line, out var tick))
                _fleet.OnTick(tick);
        }

        private void OnError(string? line)
        {
            if (line is null)
                return;
            lock (_errors)
            {
                if (_errors.Count < 20)
                    _errors.Add(line);
            }
        }

        private static string DotNet() =>
            Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }
}
