using System.Diagnostics;
using System.Runtime.InteropServices;
using Demo;
using Spectre.Console;

// The TypedCache demo: a real cluster on this machine, the Shop sample (two services and an admin), and what happens when
// servers die. Every process it starts is stopped by its PID at the end, also on Ctrl+C or SIGTERM.
using var interrupted = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

var total = Stopwatch.StartNew();
var summary = new List<(string Step, string Result, TimeSpan Time)>();
var cluster = new DemoCluster();
var exitCode = 0;
try
{
    await new Tour(cluster, summary).RunAsync(interrupted.Token);
}
catch (Exception) when (interrupted.IsCancellationRequested)
{
    // Ctrl+C reaches the whole process group: the servers and the typedcache processes may fail first.
    AnsiConsole.MarkupLine("[yellow]Interrupted: stopping the servers.[/]");
    exitCode = 130;
}
catch (Exception e)
{
    AnsiConsole.MarkupLine($"[red]The demo failed:[/] {Markup.Escape(e.ToString())}");
    exitCode = 1;
}
finally
{
    var stopping = Stopwatch.StartNew();
    await cluster.DisposeAsync();
    var left = cluster.ProcessIds.Where(IsAlive).ToList();
    AnsiConsole.Write(new Rule("[bold]10. Stop everything[/]").LeftJustified());
    AnsiConsole.MarkupLine(left.Count == 0
        ? $"Stopped {cluster.ProcessIds.Count} processes by PID ({string.Join(", ", cluster.ProcessIds)}) in {Tour.Ms(stopping.Elapsed)}; none is left."
        : $"[red]Still running: {string.Join(", ", left)}[/]");
    if (left.Count > 0)
        exitCode = 1;
}

if (summary.Count > 0)
{
    var table = new Table().Title("Summary").AddColumns("step", "what happened", "time");
    foreach (var (step, result, time) in summary)
        table.AddRow(Markup.Escape(step), Markup.Escape(result), Tour.Ms(time));
    AnsiConsole.Write(table);
}

AnsiConsole.MarkupLine($"Demo ran for {total.Elapsed.TotalSeconds:0.0} s.");
return exitCode;

void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted.Cancel();
}

static bool IsAlive(int pid)
{
    try
    {
        using var process = Process.GetProcessById(pid);
        return !process.HasExited;
    }
    catch (ArgumentException)
    {
        return false;
    }
}
