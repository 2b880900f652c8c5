using System.Runtime.InteropServices;

namespace TypedCache.Testing;

/// <summary>The two libc calls the harness needs that <see cref="System.Diagnostics.Process"/> lacks.</summary>
internal static class Native
{
    internal const int SignalTerminate = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    internal static extern uint GetEffectiveUserId();
}
