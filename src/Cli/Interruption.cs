using System.Runtime.InteropServices;

namespace TypedCache.Cli;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into a cancellation token for the long-running commands, so that they release
/// what they hold (a membership znode, a lock) before the process ends, instead of dying with the signal.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _interrupted;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public Interruption(CancellationToken cancellationToken)
    {
        _interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled on the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _interrupted.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _interrupted.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _interrupted.Cancel();
    }
}
