namespace TypedCache.Testing.Tests;

public sealed class TestProcessTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Run_returns_the_exit_code_and_both_outputs()
    {
        var (exitCode, output) = await TestProcess.RunAsync("/bin/sh", ["-c", "echo to-stdout; echo to-stderr >&2; exit 3"], Limit);

        Assert.Equal(3, exitCode);
        Assert.Contains("to-stdout", output);
        Assert.Contains("to-stderr", output);
    }

    [Fact]
    public async Task A_started_process_is_tracked_and_stopped_by_its_pid_on_dispose()
    {
        var process = TestProcess.Start("/bin/sleep", ["60"]);
        int pid = process.ProcessId;
        Assert.False(process.HasExited);
        Assert.Contains(pid, ProcessRegistry.LiveProcessIds);

        await process.DisposeAsync();

        Assert.True(process.HasExited);
        Assert.True(TextClient.ProcessIsGone(pid), $"sleep PID {pid} is still there");
        Assert.DoesNotContain(pid, ProcessRegistry.LiveProcessIds);
        Assert.Contains(pid, ProcessRegistry.StartedProcessIds);
    }

    [Fact]
    public async Task A_process_past_its_timeout_is_killed_and_named()
    {
        await using var process = TestProcess.Start("/bin/sleep", ["60"]);

        var e = await Assert.ThrowsAsync<TimeoutException>(() => process.WaitForExitAsync(TimeSpan.FromMilliseconds(200)));

        Assert.Contains("/bin/sleep 60", e.Message);
        Assert.True(TextClient.ProcessIsGone(process.ProcessId), $"sleep PID {process.ProcessId} is still there");
        Assert.DoesNotContain(process.ProcessId, ProcessRegistry.LiveProcessIds);
    }

    [Fact]
    public void A_missing_program_is_named()
    {
        var e = Assert.Throws<FileNotFoundException>(() => TestProcess.Start("/nonexistent/tool", []));
        Assert.Equal("/nonexistent/tool", e.FileName);
    }
}
