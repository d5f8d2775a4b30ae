using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Pinn.Cli;

/// <summary>
/// `pinn run &lt;config&gt;` as a child process of this one (for reproductions that run several trainings side by side):
/// its stdout and stderr go to a log file; cancelling sends it SIGTERM, so it stops at its next step and writes
/// its results as a user's interrupted run does (exit 143).
/// </summary>
static class ChildRuns
{
    public static async Task<int> Launch(string config, string log, CancellationToken cancel)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var self = Environment.ProcessPath ?? throw new PinnException("cannot start a child run: this process has no executable path");
        start.FileName = self;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") // `dotnet Pinn.Cli.dll`: the child needs the assembly too
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "run", config }) start.ArgumentList.Add(a);
        await using var file = new StreamWriter(log) { AutoFlush = true }; // before the child: nobody else would read its pipes
        Process process;
        try { process = Process.Start(start) ?? throw new PinnException($"could not start {self}"); }
        catch (System.ComponentModel.Win32Exception e) { throw new PinnException($"could not start {self}: {e.Message}"); }
        using var _ = process;
        var gate = new object();
        void Copy(object _, DataReceivedEventArgs e)
        {
            if (e.Data is not null) lock (gate) file.WriteLine(e.Data);
        }
        process.OutputDataReceived += Copy;
        process.ErrorDataReceived += Copy;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await using var onCancel = cancel.Register(() =>
        {
            try { if (!process.HasExited) Kill(process.Id, Sigterm); }
            catch (InvalidOperationException) { } // exited meanwhile
        });
        await process.WaitForExitAsync(CancellationToken.None);
        return process.ExitCode;
    }

    const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);
}
