using System.Globalization;
using System.Text;

namespace Pinn.Sweeps;

/// <summary>
/// The two batch scripts of <c>pinn sweep --launcher slurm</c>: an array job with one task per run still to do
/// (each task runs <c>pinn sweep sweep.json --task $SLURM_ARRAY_TASK_ID</c>, so it needs nothing but the manifest)
/// and the aggregation job (<c>pinn report</c>), submitted with <c>--dependency=afterany:&lt;array&gt;</c> so it runs
/// whether or not tasks failed. Task output goes to <c>logs/&lt;index&gt;.log</c>, as with the local launcher.
/// </summary>
public static class SlurmScripts
{
    /// <param name="pinn">the command that starts pinn on the nodes, already quoted (e.g. <c>'/opt/pinn/Pinn.Cli'</c>).</param>
    /// <param name="indices">the manifest indices to run (the runs not completed yet).</param>
    /// <param name="parallel">at most this many tasks at once (<c>--array=…%K</c>), or 0 for the scheduler's choice.</param>
    public static string Array(SweepManifest m, SlurmResources res, string pinn, IReadOnlyList<int> indices, int parallel = 0)
    {
        if (indices.Count == 0) throw new ArgumentException("no tasks", nameof(indices));
        var sb = Header($"pinn-{m.Name}", Path.Combine(m.Directory, "logs", "%a.log"), res);
        sb.AppendLine($"#SBATCH --array={Ranges(indices)}{(parallel > 0 ? $"%{parallel}" : "")}");
        sb.AppendLine();
        sb.AppendLine("# one run of the sweep: its entry in sweep.json is $SLURM_ARRAY_TASK_ID; it skips a completed run and resumes");
        sb.AppendLine("# an interrupted one from its checkpoint, and records its outcome in tasks/<index>.json");
        sb.AppendLine($"export OMP_NUM_THREADS={res.Cpus} MKL_NUM_THREADS={res.Cpus}");
        sb.AppendLine($"exec {pinn} sweep {Quote(Path.Combine(m.Directory, SweepManifest.FileName))} --task \"$SLURM_ARRAY_TASK_ID\" --threads {res.Cpus}");
        return sb.ToString();
    }

    public static string Report(SweepManifest m, SlurmResources res, string pinn)
    {
        var sb = Header($"pinn-{m.Name}-report", Path.Combine(m.Directory, "logs", "report.log"), res with { Cpus = 1, Gpus = 0 });
        sb.AppendLine();
        sb.AppendLine("# after every task of the array (submitted with --dependency=afterany:<array job>)");
        sb.AppendLine($"exec {pinn} report {Quote(m.Directory)}");
        return sb.ToString();
    }

    static StringBuilder Header(string job, string output, SlurmResources r)
    {
        var sb = new StringBuilder();
        sb.AppendLine("#!/bin/bash");
        sb.AppendLine($"#SBATCH --job-name={job}");
        sb.AppendLine($"#SBATCH --output={output}");
        sb.AppendLine($"#SBATCH --cpus-per-task={r.Cpus}");
        sb.AppendLine("#SBATCH --ntasks=1");
        if (r.Partition is not null) sb.AppendLine($"#SBATCH --partition={r.Partition}");
        if (r.Time is not null) sb.AppendLine($"#SBATCH --time={r.Time}");
        if (r.Memory is not null) sb.AppendLine($"#SBATCH --mem={r.Memory}");
        if (r.Gpus > 0) sb.AppendLine($"#SBATCH --gres=gpu:{r.Gpus}");
        if (r.Account is not null) sb.AppendLine($"#SBATCH --account={r.Account}");
        foreach (var e in r.Extra ?? []) sb.AppendLine($"#SBATCH {e}");
        return sb;
    }

    /// <summary>Indices as Slurm's array syntax: <c>0-3,5,7-9</c>.</summary>
    public static string Ranges(IReadOnlyList<int> indices)
    {
        var sorted = indices.Distinct().Order().ToArray();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(i == j ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>A word for bash: single-quoted unless it is plainly safe.</summary>
    public static string Quote(string s) =>
        s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || ch is '/' or '.' or '-' or '_' or '=' or ':' or '+') ? s : "'" + s.Replace("'", "'\\''") + "'";
}
