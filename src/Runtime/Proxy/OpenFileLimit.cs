using System.Runtime.InteropServices;

namespace TypedCache.Proxy;

/// <summary>The process's open-file limit (RLIMIT_NOFILE), which bounds how many connections the proxy can hold.</summary>
internal static class OpenFileLimit
{
    private const int RLimitNoFile = 7;

    /// <summary>The hard limit, which the soft limit may be raised to; unlimited off Linux or when it cannot be read.</summary>
    public static ulong Hard => OperatingSystem.IsLinux() && GetRLimit(RLimitNoFile, out var limit) == 0 ? limit.Maximum : ulong.MaxValue;

    /// <summary>Raises the soft open-file limit to fit <paramref name="files"/> descriptors, or throws naming both numbers.</summary>
    /// <exception cref="InvalidOperationException">The hard limit is lower than <paramref name="files"/>, or raising failed.</exception>
    public static void EnsureAtLeast(int files)
    {
        if (!OperatingSystem.IsLinux())
            return;
        if (GetRLimit(RLimitNoFile, out var limit) != 0)
            return;
        if (limit.Current >= (ulong)files)
            return;
        if (limit.Maximum < (ulong)files)
            throw new InvalidOperationException(
                $"The open-file limit (hard {limit.Maximum}) cannot fit {files} descriptors for the proxy's connection limit; lower MaxConnections or raise 'ulimit -Hn'.");
        var raised = new RLimit { Current = (ulong)files, Maximum = limit.Maximum };
        if (SetRLimit(RLimitNoFile, ref raised) != 0)
            throw new InvalidOperationException($"Could not raise the open-file limit from {limit.Current} to {files} (errno {Marshal.GetLastPInvokeError()}).");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [DllImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static extern int GetRLimit(int resource, out RLimit limit);

    [DllImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static extern int SetRLimit(int resource, ref RLimit limit);
}
