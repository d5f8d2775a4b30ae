using System.Diagnostics;

namespace Pinn.Bench;

/// <summary>
/// Finds a Python that can import torch and runs scripts with it. Debian's <c>/usr/bin/python3</c> is tried
/// first: <c>make bench-peers</c> installs <c>python3-torch</c> there, while <c>python3</c> on PATH may be a
/// pyenv interpreter without torch.
/// </summary>
public static class PythonTorch
{
    static readonly string[] Candidates = ["/usr/bin/python3", "python3"];

    /// <summary>The first candidate that imports torch, with its version; null when none does.</summary>
    public static (string Python, string TorchVersion)? Find()
    {
        foreach (var python in Candidates)
        {
            var (code, stdout, _) = Run(python, ["-c", "import torch; print(torch.__version__)"], TimeSpan.FromSeconds(60));
            if (code == 0) return (python, stdout.Trim());
        }
        return null;
    }

    /// <summary>Runs a process to completion; exit code −1 when it cannot start or times out.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> arguments, TimeSpan timeout,
                                                                  IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        Process? p;
        try { p = Process.Start(info); }
        catch (System.ComponentModel.Win32Exception) { return (-1, "", $"{file}: not found"); }
        if (p is null) return (-1, "", $"{file}: did not start");
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                return (-1, stdout.Result, $"timed out after {timeout.TotalSeconds:F0} s");
            }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
