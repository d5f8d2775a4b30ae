using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Pinn.Cli;

/// <summary>
/// `pinn &lt;args&gt;` as a child process of this one (reproductions and sweeps run several trainings side by side,
/// each in its own process, so a native abort in one cannot take the others down): its stdout and stderr go to a
/// log file; cancelling sends it SIGTERM, so it stops at its next step and writes its results as a user's
/// interrupted run does (exit 143).
/// </summary>
static class ChildRuns
{
    /// <summary>`pinn run &lt;config&gt;` in a child process.</summary>
    public static Task<int> Launch(string config, string log, CancellationToken cancel) => Launch(["run", config], log, cancel);

    public static async Task<int> Launch(IReadOnlyList<string> args, string log, CancellationToken cancel,
                                         IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var (self, prefix) = Self();
        start.FileName = self;
        foreach (var a in prefix.Concat(args)) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
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

    /// <summary>How to start this program again: its executable, and the assembly when it runs as `dotnet Pinn.Cli.dll`.</summary>
    public static (string File, IReadOnlyList<string> Prefix) Self()
    {
        var self = Environment.ProcessPath ?? throw new PinnException("cannot start a child run: this process has no executable path");
        return Path.GetFileNameWithoutExtension(self) == "dotnet" ? (self, [Assembly.GetEntryAssembly()!.Location]) : (self, []);
    }

    const int Sigterm = 15;

    [DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);
}
