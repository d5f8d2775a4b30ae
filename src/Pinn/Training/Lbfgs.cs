using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training;

/// <summary>
/// L-BFGS (Nocedal &amp; Wright, Numerical Optimization, Alg. 7.4/7.5) with an Armijo backtracking
/// line search, over the model's parameters flattened into one vector. Written here rather than
/// using torch.optim.LBFGS because TorchSharp's has no line search and diverges on PINN losses at
/// lr = 1 (TORCHSHARP.md, pitfall 4); backtracking makes every accepted step decrease the loss.
/// </summary>
public sealed class Lbfgs(IReadOnlyList<TorchParameter> parameters, int history = 50)
{
    const double Armijo = 1e-4;      // sufficient-decrease constant c1 (N&W §3.1)
    const int MaxBacktracks = 30;

    public sealed record Result(int Iterations, double InitialLoss, double FinalLoss, string StopReason);

    /// <summary>
    /// Minimises <paramref name="loss"/> (a fresh graph per call; called inside a dispose scope)
    /// for at most <paramref name="maxIterations"/> iterations. Leaves the parameters at the best point.
    /// </summary>
    public Result Minimize(Func<Tensor> loss, int maxIterations, Action<int, double>? onIteration = null, Func<bool>? stop = null)
    {
        using var outer = NewDisposeScope();
        var x = Flatten(p => p.detach());
        var (f, g) = Evaluate(x, loss);
        double f0 = f;
        var s = new List<Tensor>();
        var y = new List<Tensor>();
        var rho = new List<double>();
        string reason = "iteration limit";
        int k = 0;
        for (; k < maxIterations; k++)
        {
            if (stop?.Invoke() == true) { reason = "stopped"; break; }
            using var step = NewDisposeScope();
            var d = Direction(g, s, y, rho);
            double gd = d.dot(g).ToDouble();
            if (!(gd < 0))
            {
                Clear(s, y, rho);
                d = -g;
                gd = -g.dot(g).ToDouble();
            }
            if (gd == 0) { reason = "zero gradient"; break; }
            double alpha = s.Count == 0 ? Math.Min(1.0, 1.0 / Math.Sqrt(-gd)) : 1.0;
            Tensor? xn = null, gn = null;
            double fn = double.NaN;
            for (int ls = 0; ls < MaxBacktracks; ls++, alpha *= 0.5)
            {
                xn = x + alpha * d;
                (fn, gn) = Evaluate(xn, loss);
                if (double.IsFinite(fn) && fn <= f + Armijo * alpha * gd) break;
                fn = double.NaN;
            }
            if (double.IsNaN(fn))
            {
                if (s.Count == 0) { reason = "line search failed"; break; }
                Clear(s, y, rho); // curvature memory is misleading here: retry along the gradient
                continue;
            }
            var sk = xn! - x;
            var yk = gn! - g;
            double sy = sk.dot(yk).ToDouble();
            if (sy > 1e-10 * yk.dot(yk).ToDouble())
            {
                s.Add(sk.MoveToOuterDisposeScope());
                y.Add(yk.MoveToOuterDisposeScope());
                rho.Add(1.0 / sy);
                if (s.Count > history) { s[0].Dispose(); y[0].Dispose(); s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0); }
            }
            bool stalled = Math.Abs(f - fn) <= 1e-12 * Math.Max(1.0, Math.Abs(f));
            x.Dispose(); g.Dispose();
            x = xn!.MoveToOuterDisposeScope();
            g = gn!.MoveToOuterDisposeScope();
            f = fn;
            onIteration?.Invoke(k + 1, f);
            if (stalled) { reason = "loss stopped decreasing"; k++; break; }
        }
        Assign(x);
        return new Result(k, f0, f, reason);
    }

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

    static void Clear(List<Tensor> s, List<Tensor> y, List<double> rho)
    {
        foreach (var t in s.Concat(y)) t.Dispose();
        s.Clear(); y.Clear(); rho.Clear();
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
