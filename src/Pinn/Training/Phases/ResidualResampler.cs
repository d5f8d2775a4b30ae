using Pinn.Geometry;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Phases;

/// <summary>
/// Residual-adaptive redraws (RAD, Wu et al. 2023; OPTIMIZERS.md §11.1) of the trainer's point sets: for each set,
/// <see cref="ResampleOptions.Pool"/> candidates of its region drawn with a sampler of the run's kind seeded from
/// (run seed, phase tag, cycle, set), ε = √(Σ r²) over the terms on that set at each candidate (evaluated in chunks,
/// the parameters' requires_grad switched off so no parameter graph is built), p ∝ ε^k / mean(ε^k) + c (clamped
/// ≥ 1e-12), and the batch drawn without replacement by Efraimidis–Spirakis keys (System.Random, same seeds) —
/// equivalent to successive weighted draws without replacement. Everything is a function of the seeds, the cycle
/// and the parameters: a resumed run redraws identically.
/// </summary>
public static class ResidualResampler
{
    /// <summary>Candidates per residual evaluation (bounds the memory of the pool pass).</summary>
    public const int Chunk = 4096;

    /// <summary>The RAD density p_i = ε_i^k / mean(ε^k) + c, clamped at 1e-12; non-finite ε counts as the largest finite one.</summary>
    public static double[] Density(IReadOnlyList<double> eps, double k, double c)
    {
        int n = eps.Count;
        double maxFinite = eps.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var e = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            double v = double.IsFinite(eps[i]) ? Math.Abs(eps[i]) : maxFinite;
            e[i] = Math.Pow(v, k);
            mean += e[i];
        }
        mean /= Math.Max(1, n);
        var p = new double[n];
        for (int i = 0; i < n; i++)
            p[i] = Math.Max(1e-12, (mean > 0 && double.IsFinite(mean) ? e[i] / mean : 1.0) + c);
        return p;
    }

    /// <summary>
    /// <paramref name="count"/> distinct indices drawn with probabilities ∝ <paramref name="weights"/>, without replacement
    /// (keys log(u)/w, the largest kept; returned in ascending index order).
    /// </summary>
    public static int[] Select(IReadOnlyList<double> weights, int count, Random rng)
    {
        int n = weights.Count;
        if (count > n) throw new PinnException($"cannot draw {count} distinct points from {n} candidates");
        var keys = new double[n];
        for (int i = 0; i < n; i++) keys[i] = Math.Log(1.0 - rng.NextDouble()) / weights[i]; // log u, u ∈ (0, 1]
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(keys, order); // ascending: the largest keys are at the end
        var chosen = order[(n - count)..];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>A seed from the run seed and the cycle's coordinates (SplitMix64: no process-randomised hashing).</summary>
    public static int Seed(int runSeed, params long[] parts)
    {
        ulong z = (ulong)(uint)runSeed;
        foreach (var p in parts)
        {
            z += 0x9E3779B97F4A7C15UL ^ (ulong)p;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
        }
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>Refuses a model without point sets (the grid GP) or a pool smaller than a batch, before any training.</summary>
    public static void Check(IPhaseHost host, ResampleOptions o, string phase)
    {
        if (host.PointSets.Count == 0)
            throw new PinnException($"{phase}.resample: model '{host.Model.Describe()}' has no sampled collocation points to redraw; remove resample");
        foreach (var s in host.PointSets.Where(s => s.Count > o.Pool))
            throw new PinnException($"{phase}.resample.pool = {o.Pool} is below the batch of {s.Region} ({s.Count} points); " +
                                    "the pool must hold at least one batch (≥ 10× is usual)");
    }

    /// <summary>Cycle <paramref name="cycle"/>'s redraw of every point set (the model's parameters are read, not changed).</summary>
    public static void Redraw(IPhaseHost host, ResampleOptions o, int tag, int cycle)
    {
        var sets = host.PointSets;
        for (int i = 0; i < sets.Count; i++)
        {
            var set = sets[i];
            var terms = host.Terms.Where(t => ReferenceEquals(t.ResidualSet, set)).ToList();
            var sampler = SamplerFactory.Create(host.Options.Sampler, Seed(host.Options.Seed, tag, cycle, i, 1));
            var pool = set.SampleRegion(o.Pool, sampler);
            var eps = Residuals(host, terms, pool, set.Points.dtype, set.Points.device);
            var chosen = Select(Density(eps, o.K, o.C), set.Count, new Random(Seed(host.Options.Seed, tag, cycle, i, 2)));
            int d = pool.GetLength(1);
            var batch = new double[chosen.Length, d];
            for (int r = 0; r < chosen.Length; r++)
                for (int j = 0; j < d; j++) batch[r, j] = pool[chosen[r], j];
            set.Assign(batch, set.Points.dtype, set.Points.device);
        }
    }

    /// <summary>
    /// Every current batch, written out (a RAD draw cannot be replayed from the uniform samplers' draw count): the
    /// resampling phases keep it in their checkpoint state. <see cref="LoadBatches"/> reads it back.
    /// </summary>
    public static void SaveBatches(IPhaseHost host, BinaryWriter w)
    {
        w.Write(host.PointSets.Count);
        foreach (var set in host.PointSets)
        {
            var pts = set.Points.detach().to(ScalarType.Float64).cpu().contiguous();
            w.Write(pts.shape[0]);
            w.Write(pts.shape[1]);
            foreach (var x in pts.data<double>()) w.Write(x);
        }
    }

    public static void LoadBatches(IPhaseHost host, BinaryReader r)
    {
        int sets = r.ReadInt32();
        if (sets != host.PointSets.Count) throw new PinnException($"the checkpoint holds {sets} point sets, this run has {host.PointSets.Count}");
        foreach (var set in host.PointSets)
        {
            long n = r.ReadInt64(), d = r.ReadInt64();
            var raw = new double[n, d];
            for (long i = 0; i < n; i++)
                for (long j = 0; j < d; j++) raw[i, j] = r.ReadDouble();
            set.Assign(raw, ScalarType.Float64, host.Model.TrainableParameters[0].device); // these phases run in float64
        }
    }

    /// <summary>ε = √(Σ r²) of <paramref name="terms"/> at every candidate (all ones when no term has a residual there: uniform).</summary>
    public static double[] Residuals(IPhaseHost host, IReadOnlyList<LossTerm> terms, double[,] pool, ScalarType dtype, Device device)
    {
        int n = pool.GetLength(0), d = pool.GetLength(1);
        var eps = new double[n];
        if (terms.Count == 0) { Array.Fill(eps, 1.0); return eps; }
        var parameters = host.Parameters;
        var flags = parameters.Select(p => p.requires_grad).ToArray();
        try
        {
            foreach (var p in parameters) p.requires_grad_(false);
            for (int start = 0; start < n; start += Chunk)
            {
                int m = Math.Min(Chunk, n - start);
                var rows = new double[m, d];
                Buffer.BlockCopy(pool, start * d * sizeof(double), rows, 0, m * d * sizeof(double));
                using var scope = NewDisposeScope();
                var points = tensor(rows, dtype: ScalarType.Float64).to(dtype, device).requires_grad_(true);
                var ctx = host.NewContext();
                Tensor? sum = null;
                foreach (var t in terms)
                    if (t.PointwiseSquares(ctx, points) is { } sq) sum = sum is null ? sq : sum + sq;
                if (sum is null) { Array.Fill(eps, 1.0, start, m); continue; }
                var values = sum.detach().sqrt().to(ScalarType.Float64).cpu().data<double>().ToArray();
                Array.Copy(values, 0, eps, start, m);
            }
        }
        finally
        {
            for (int i = 0; i < parameters.Count; i++) parameters[i].requires_grad_(flags[i]);
        }
        return eps;
    }
}

/// <summary>
/// Where a resampling phase (dense quasi-Newton, Levenberg–Marquardt) stands in its RAD cycles (OPTIMIZERS.md §4), and
/// its checkpoint form: the counters, then every current batch (a RAD draw cannot be replayed from a draw count).
/// </summary>
public sealed class ResampleCycles
{
    /// <summary>host.Draws when the phase began: tells this phase's cycle seeds from another phase's.</summary>
    public int Tag;
    /// <summary>Redraws done in this phase.</summary>
    public int Cycle;
    /// <summary>Iterations since the last (re)draw.</summary>
    public int SinceDraw;
    /// <summary>Accepted steps in the current cycle.</summary>
    public int CycleSteps;
    /// <summary>Cycles in a row that ended without an accepted step.</summary>
    public int FailedCycles;
    /// <summary>A step failed: redraw before the next iteration.</summary>
    public bool RedrawNow;

    /// <summary>Whether the next iteration starts a cycle on new batches (every <see cref="ResampleOptions.Every"/>, or after a failed step).</summary>
    public bool Due(ResampleOptions? o) => o is not null && (RedrawNow || SinceDraw >= o.Every);

    /// <summary>Starts the next cycle: every batch redrawn (RAD) and the cycle's counters reset.</summary>
    public void Redraw(IPhaseHost host, ResampleOptions o)
    {
        Cycle++;
        ResidualResampler.Redraw(host, o, Tag, Cycle);
        SinceDraw = 0;
        CycleSteps = 0;
        RedrawNow = false;
    }

    /// <summary>
    /// Counts an iteration of a phase without memory to keep (lm, tr, engd). A step that found no decrease
    /// (<paramref name="stop"/> starting with "no decrease") ends the cycle: the next iteration starts one on a new batch,
    /// and three cycles in a row without an accepted step end the phase. Returns the stop that stands.
    /// </summary>
    public string? AfterStep(ResampleOptions? o, bool moved, string? stop)
    {
        SinceDraw++;
        if (o is null) return stop;
        if (moved) { CycleSteps++; FailedCycles = 0; return stop; }
        if (stop is null || !stop.StartsWith("no decrease", StringComparison.Ordinal)) return stop;
        RedrawNow = true;
        return CycleSteps == 0 && ++FailedCycles > 2 ? $"no decrease on {FailedCycles} fresh batches in a row ({stop})" : null;
    }

    public void Save(IPhaseHost host, BinaryWriter w, string magic)
    {
        w.Write(magic);
        foreach (var v in new[] { Tag, Cycle, SinceDraw, CycleSteps, FailedCycles }) w.Write(v);
        w.Write(RedrawNow);
        ResidualResampler.SaveBatches(host, w);
    }

    public void Load(IPhaseHost host, BinaryReader r, string magic, string phase)
    {
        if (r.ReadString() != magic)
            throw new PinnException($"the checkpoint's {phase} phase has no resampling state; resume with the config it was started with");
        Tag = r.ReadInt32(); Cycle = r.ReadInt32(); SinceDraw = r.ReadInt32(); CycleSteps = r.ReadInt32(); FailedCycles = r.ReadInt32();
        RedrawNow = r.ReadBoolean();
        ResidualResampler.LoadBatches(host, r);
    }
}
