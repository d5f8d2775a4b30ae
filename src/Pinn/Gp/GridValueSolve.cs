using TorchSharp;
using Pinn.Training;
using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>What one <see cref="GridValueSolve.Run"/> did.</summary>
/// <param name="CgIterations">CG iterations of each Gauss–Newton step tried.</param>
/// <param name="RelativeResidual">CG's ‖b − Ah‖/‖b‖ at the last step.</param>
/// <param name="InitialValue">‖r̃‖² before (twice the GP objective less its U-free terms).</param>
/// <param name="Stop">Why it stopped before <see cref="GpOptions.SolveIterations"/> steps, or null.</param>
public sealed record GridSolveReport(int Accepted, IReadOnlyList<int> CgIterations, double RelativeResidual,
                                     double InitialValue, double FinalValue, string? Stop);

/// <summary>
/// <c>model.solve_every</c>: the grid values U minimised with the kernel and the noise precisions fixed, on
/// <see cref="GridValueResiduals"/>, matrix-free at any grid size. Each Gauss–Newton step solves
/// (JᵀJ + μI) h = −Jᵀr̃ by conjugate gradients (<see cref="ConjugateGradient"/>) in whitened coordinates
/// (<see cref="WhitenedGridSystem"/>, U = (⊗L_j) V) preconditioned by the exact diagonal in the prior's Kronecker
/// eigenbasis (<see cref="SpectralPreconditioner"/>) — chosen over whitening alone by measured iteration counts
/// (DESIGN.md "Grid-value solve"). For a linear PDE the objective is quadratic in U and one step is its minimiser (to the
/// CG tolerance); for a nonlinear one each further step is accepted only where an Armijo backtracking line search
/// finds a decrease of ‖r̃‖², so Adam's iterate is never made worse. Every product costs O(N Σ n_j).
/// </summary>
public static class GridValueSolve
{
    /// <summary>Armijo's sufficient-decrease constant (Nocedal–Wright §3.1: 1e-4 is the usual choice).</summary>
    const double Armijo = 1e-4;
    /// <summary>|actual/predicted decrease − 1| below which a full step is taken as exact (the objective quadratic along it).</summary>
    const double ModelAgreement = 1e-6;

    public static GridSolveReport Run(GridGpField gp, StepContext ctx, IReadOnlyList<LossTerm> terms)
    {
        var o = gp.Options;
        using var scope = NewDisposeScope();
        GridStep step;
        using (no_grad()) step = gp.Factorize();
        var objective = new GridValueResiduals(gp, step, ctx, terms);
        var cg = new CgOptions { Tolerance = o.SolveTolerance, MaxIterations = o.SolveMaxCg };
        var x = objective.Flatten();
        var lin = objective.Linearise(x);
        double f0 = lin.Residuals.square().sum().ToDouble(), f = f0;
        var iterations = new List<int>();
        double relative = double.NaN;
        int accepted = 0;
        string? stop = null;
        for (int k = 0; k < o.SolveIterations && stop is null; k++)
        {
            Tensor? next = null;
            double fNext = f;
            bool exact = false;
            using (var iteration = NewDisposeScope())
            {
                var (h, result) = Direction(lin, o, cg);
                iterations.Add(result.Iterations);
                relative = result.RelativeResidual;
                // d/dα ‖r̃(x + αh)‖² at α = 0 is 2 gᵀh with g = Jᵀr̃.
                double slope = 2 * lin.Gradient().dot(h).ToDouble();
                if (!(slope < 0)) stop = $"the Gauss–Newton step is not a descent direction (slope {slope:G3})";
                double alpha = 1;
                for (int b = 0; stop is null && b <= o.SolveBacktracks; b++, alpha /= 2)
                {
                    var trial = x + alpha * h;
                    var (r, _) = objective.Evaluate(trial, jacobian: false);
                    double ft = r.square().sum().ToDouble();
                    if (double.IsFinite(ft) && ft <= f + Armijo * alpha * slope)
                    {
                        next = trial.MoveToOuterDisposeScope();
                        fNext = ft;
                        // The quadratic model's decrease −(2gᵀh + hᵀAh) = −gᵀh (A h = −g): met at a full step, the objective is
                        // quadratic along h to that accuracy, so a further step would gain less than rounding (linear PDEs).
                        exact = b == 0 && Math.Abs((f - ft) / (-0.5 * slope) - 1) <= ModelAgreement;
                        break;
                    }
                }
                if (stop is null && next is null) stop = $"no decrease along the Gauss–Newton step in {o.SolveBacktracks + 1} trials";
            }
            if (next is null) break;
            accepted++;
            x = next;
            f = fNext;
            if (k + 1 < o.SolveIterations)
            {
                if (exact) stop = "converged (the Gauss–Newton model was exact)";
                else lin = objective.Linearise(x);
            }
        }
        objective.Assign(x);
        return new GridSolveReport(accepted, iterations, relative, f0, f, stop);
    }

    /// <summary>The Gauss–Newton step in U by CG, in the coordinates and with the preconditioner <see cref="GpOptions.SolvePreconditioner"/> names.</summary>
    public static (Tensor Step, CgResult Result) Direction(GridLinearisation lin, GpOptions o, CgOptions cg)
    {
        if (o.SolvePreconditioner == "none")
        {
            var raw = ConjugateGradient.SolveGaussNewton(lin, o.SolveDamping, null, cg);
            return (raw.X, raw);
        }
        var system = new WhitenedGridSystem(lin);
        var preconditioner = o.SolvePreconditioner == "spectral" ? new SpectralPreconditioner(lin, o.SolveDamping) : null;
        var result = ConjugateGradient.SolveGaussNewton(system, o.SolveDamping, preconditioner, cg);
        return (system.ToValues(result.X), result);
    }
}
