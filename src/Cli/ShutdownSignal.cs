using System.Runtime.InteropServices;

namespace TypedCache.Cli;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) or SIGTERM into the cancellation token every command is given, so that
/// <c>register</c>, <c>lock</c>, <c>proxy</c> and <c>bench</c> release what they hold (a membership znode, a lock, the
/// servers they started) before the process ends. It is registered before any command runs: a signal sent as soon as a
/// command has said it is ready is never met by the runtime's default handling. A second signal ends the process at once.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    // Never disposed: a handler the runtime has already dispatched may still run while the process is ending, and a
    // source with no timer and no links holds nothing that needs releasing.
    private readonly CancellationTokenSource _requested = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _signals;

    public ShutdownSignal()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled on the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _requested.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _signals) == 1)
        {
            _requested.Cancel();
            return;
        }

        // A second signal: exit now, with the code the commands give when interrupted. Exiting through the runtime (not the
        // signal's default action) still runs the process-exit handlers, which stop by PID the servers a `bench` run
        // started (its workers end when their stdin closes).
        Environment.Exit(CliError.Interrupted);
    }
}
