using Pinn.Training.Optimizers;
using Pinn.Training.Phases;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>
/// L-BFGS (Nocedal &amp; Wright, Numerical Optimization, Alg. 7.4/7.5) over the model's parameters flattened
/// into one vector, with an Armijo backtracking line search (default) or the strong-Wolfe search of
/// <see cref="StrongWolfeLineSearch"/>. Written here rather than using torch.optim.LBFGS because TorchSharp's has
/// no line search and diverges on PINN losses at lr = 1 (TORCHSHARP.md, pitfall 4); either search makes every
/// accepted step decrease the loss. <see cref="Minimize"/> runs a whole minimisation; <see cref="Start"/> and
/// <see cref="Resume"/> give a <see cref="Run"/> that takes one iteration at a time and saves its state exactly.
/// </summary>
public sealed class Lbfgs(IReadOnlyList<TorchParameter> parameters, int history = 50,
                          LbfgsLineSearch lineSearch = LbfgsLineSearch.Armijo, StrongWolfeOptions? wolfe = null)
{
    const double Armijo = 1e-4;      // sufficient-decrease constant c1 (N&W §3.1)
    const int MaxBacktracks = 30;
    readonly StrongWolfeOptions _wolfe = wolfe ?? new StrongWolfeOptions();

    public sealed record Result(int Iterations, double InitialLoss, double FinalLoss, string StopReason, int Evaluations = 0);

    /// <summary>
    /// Minimises <paramref name="loss"/> (a fresh graph per call; called inside a dispose scope)
    /// for at most <paramref name="maxIterations"/> iterations. Leaves the parameters at the best point.
    /// </summary>
    public Result Minimize(Func<Tensor> loss, int maxIterations, Action<int, double>? onIteration = null, Func<bool>? stop = null)
    {
        using var run = Start(loss);
        string reason = "iteration limit";
        int k = 0;
        for (; k < maxIterations; k++)
        {
            if (stop?.Invoke() == true) { reason = "stopped"; break; }
            var step = run.Step();
            if (step.Moved) onIteration?.Invoke(k + 1, step.Loss);
            if (step.Stop is not null) { reason = step.Stop; if (step.Moved) k++; break; }
        }
        return new Result(k, run.InitialLoss, run.Loss, reason, run.Evaluations);
    }

    /// <summary>Starts at the current parameters (one evaluation).</summary>
    public Run Start(Func<Tensor> loss) => new(this, loss, null);

    /// <summary>Continues a run saved by <see cref="Run.Save"/> (no evaluation); the parameters are set to its iterate.</summary>
    public Run Resume(Func<Tensor> loss, BinaryReader saved) => new(this, loss, saved);

    /// <summary>One iteration's outcome: <see cref="Stop"/> says why the run cannot go on (null: it can).</summary>
    /// <param name="Step">The accepted step length α along the search direction (0 when none was taken).</param>
    public readonly record struct Iteration(bool Moved, double Loss, int Evaluations, string? Stop, double Step = 0);

    /// <summary>
    /// An L-BFGS minimisation in progress: the iterate x, f(x), ∇f(x) and the curvature pairs, all outside
    /// every dispose scope until <see cref="Dispose"/>. After each <see cref="Step"/> the parameters hold x.
    /// </summary>
    public sealed class Run : IDisposable
    {
        const string Magic = "pinn.lbfgs";
        const int Version = 1;
        readonly Lbfgs _o;
        readonly Func<Tensor> _loss;
        Tensor _x, _g;
        readonly List<Tensor> _s = [], _y = [];
        readonly List<double> _rho = [];

        internal Run(Lbfgs owner, Func<Tensor> loss, BinaryReader? saved)
        {
            _o = owner;
            _loss = loss;
            if (saved is null)
            {
                using var scope = NewDisposeScope();
                _x = _o.Flatten(p => p.detach()).DetachFromDisposeScope();
                var (f, g) = Evaluate(_x);
                _g = g.DetachFromDisposeScope();
                Loss = InitialLoss = f;
            }
            else
            {
                _x = null!; _g = null!;
                Load(saved);
                _o.Assign(_x);
            }
        }

        public double InitialLoss { get; private set; }
        public double Loss { get; private set; }
        /// <summary>Loss + gradient evaluations, the starting one included.</summary>
        public int Evaluations { get; private set; }
        /// <summary>Line searches run (each iteration runs one).</summary>
        public int LineSearches { get; private set; }

        public Iteration Step()
        {
            using var step = NewDisposeScope();
            int before = Evaluations;
            double f = Loss;
            var d = Direction(_g, _s, _y, _rho);
            double gd = d.dot(_g).ToDouble();
            if (!(gd < 0))
            {
                Clear();
                d = -_g;
                gd = -_g.dot(_g).ToDouble();
            }
            if (gd == 0) return new(false, f, 0, "zero gradient");
            double alpha = _s.Count == 0 ? Math.Min(1.0, 1.0 / Math.Sqrt(-gd)) : 1.0;
            LineSearches++;
            var (xn, fn, gn) = _o._lineSearch == LbfgsLineSearch.StrongWolfe ? StrongWolfe(d, f, gd, ref alpha) : Backtrack(d, f, gd, ref alpha);
            if (double.IsNaN(fn))
            {
                _o.Assign(_x); // the parameters hold the last trial point: back to the iterate
                if (_s.Count == 0) return new(false, f, Evaluations - before, "line search failed");
                Clear(); // curvature memory is misleading here: retry along the gradient
                return new(false, f, Evaluations - before, null);
            }
            var sk = xn! - _x;
            var yk = gn! - _g;
            double sy = sk.dot(yk).ToDouble();
            if (sy > 1e-10 * yk.dot(yk).ToDouble())
            {
                _s.Add(sk.DetachFromDisposeScope());
                _y.Add(yk.DetachFromDisposeScope());
                _rho.Add(1.0 / sy);
                if (_s.Count > _o._history) { _s[0].Dispose(); _y[0].Dispose(); _s.RemoveAt(0); _y.RemoveAt(0); _rho.RemoveAt(0); }
            }
            bool stalled = Math.Abs(f - fn) <= 1e-12 * Math.Max(1.0, Math.Abs(f));
            _x.Dispose(); _g.Dispose();
            _x = xn!.DetachFromDisposeScope();
            _g = gn!.DetachFromDisposeScope();
            Loss = fn;
            return new(true, fn, Evaluations - before, stalled ? "loss stopped decreasing" : null, alpha);
        }

        /// <summary>Halves the step until the Armijo condition holds (NaN value: no step found).</summary>
        (Tensor? x, double f, Tensor? g) Backtrack(Tensor d, double f, double gd, ref double alpha)
        {
            Tensor? xn = null, gn = null;
            double fn = double.NaN;
            for (int ls = 0; ls < MaxBacktracks; ls++, alpha *= 0.5)
            {
                xn = _x + alpha * d;
                (fn, gn) = Evaluate(xn);
                if (double.IsFinite(fn) && fn <= f + Armijo * alpha * gd) break;
                fn = double.NaN;
            }
            return (xn, fn, gn);
        }

        /// <summary>The strong-Wolfe search; its accepted step is always the last one evaluated.</summary>
        (Tensor? x, double f, Tensor? g) StrongWolfe(Tensor d, double f, double gd, ref double alpha)
        {
            Tensor? xn = null, gn = null;
            LinePoint Phi(double a)
            {
                xn = _x.add(d, a);
                (double value, gn) = Evaluate(xn);
                return new LinePoint(value, gn.dot(d).ToDouble());
            }
            var search = StrongWolfeLineSearch.Search(Phi, new LinePoint(f, gd), alpha, _o._wolfe);
            alpha = search.Step;
            return search.Succeeded ? (xn, search.Accepted.Value, gn) : (null, double.NaN, null);
        }

        (double, Tensor) Evaluate(Tensor x)
        {
            Evaluations++;
            return _o.Evaluate(x, _loss);
        }

        void Clear()
        {
            foreach (var t in _s.Concat(_y)) t.Dispose();
            _s.Clear(); _y.Clear(); _rho.Clear();
        }

        /// <summary>Everything the next <see cref="Step"/> reads, exactly (TorchSharp's tensor format, raw doubles).</summary>
        public void Save(BinaryWriter w)
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(InitialLoss);
            w.Write(Loss);
            w.Write(Evaluations);
            w.Write(LineSearches);
            w.Write(_s.Count);
            foreach (var r in _rho) w.Write(r);
            foreach (var t in new[] { _x, _g }.Concat(_s).Concat(_y)) t.cpu().Save(w);
        }

        void Load(BinaryReader r)
        {
            if (r.ReadString() != Magic) throw new PinnException("not an L-BFGS state");
            int version = r.ReadInt32();
            if (version != Version) throw new PinnException($"L-BFGS state version {version}, expected {Version}");
            InitialLoss = r.ReadDouble();
            Loss = r.ReadDouble();
            Evaluations = r.ReadInt32();
            LineSearches = r.ReadInt32();
            int pairs = r.ReadInt32();
            for (int i = 0; i < pairs; i++) _rho.Add(r.ReadDouble());
            using var scope = NewDisposeScope();
            var template = _o.Flatten(p => p.detach());
            Tensor Read()
            {
                var t = zeros_like(template);
                t.Load(r);
                return t.DetachFromDisposeScope();
            }
            _x = Read();
            _g = Read();
            for (int i = 0; i < pairs; i++) _s.Add(Read());
            for (int i = 0; i < pairs; i++) _y.Add(Read());
        }

        public void Dispose()
        {
            Clear();
            _x?.Dispose();
            _g?.Dispose();
        }
    }

    readonly int _history = history;
    readonly LbfgsLineSearch _lineSearch = lineSearch;

    /// <summary>Two-loop recursion: d = −H g with H the L-BFGS inverse-Hessian approximation.</summary>
    static Tensor Direction(Tensor g, List<Tensor> s, List<Tensor> y, List<double> rho)
    {
        var q = -g;
        var a = new double[s.Count];
        for (int i = s.Count - 1; i >= 0; i--)
        {
            a[i] = rho[i] * s[i].dot(q).ToDouble();
            q = q - a[i] * y[i];
        }
        if (s.Count > 0)
        {
            int m = s.Count - 1;
            q = q * (1.0 / (rho[m] * y[m].dot(y[m]).ToDouble())); // H0 = (sᵀy / yᵀy) I
        }
        for (int i = 0; i < s.Count; i++)
        {
            double b = rho[i] * y[i].dot(q).ToDouble();
            q = q + (a[i] - b) * s[i];
        }
        return q;
    }

    (double, Tensor) Evaluate(Tensor x, Func<Tensor> loss)
    {
        Assign(x);
        using var scope = NewDisposeScope();
        foreach (var p in parameters) p.grad?.zero_();
        var l = loss();
        l.backward();
        var g = Flatten(p => p.grad ?? zeros_like(p));
        return (l.ToDouble(), g.MoveToOuterDisposeScope());
    }

    // clone(): with a single parameter, cat may hand back a view of the parameter itself, and the
    // iterate must not change when the parameters are overwritten by a trial step.
    Tensor Flatten(Func<TorchParameter, Tensor> pick) => cat(parameters.Select(p => pick(p).flatten()).ToList(), 0).detach().clone();

    void Assign(Tensor x)
    {
        using var _ = no_grad();
        long offset = 0;
        foreach (var p in parameters)
        {
            long n = p.numel();
            p.copy_(x.narrow(0, offset, n).view_as(p));
            offset += n;
        }
    }
}
