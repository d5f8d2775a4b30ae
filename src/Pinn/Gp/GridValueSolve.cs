using Pinn.Training;
using Pinn.Training.Optimizers;
using static TorchSharp.torch;

namespace Pinn.Gp;

/// <summary>
/// <c>model.solve_every</c>: the grid values U minimised with the kernel and the noise precisions fixed, by the shared
/// <see cref="LevenbergMarquardt"/> on <see cref="GridValueResiduals"/> (dense J, so grids of at most
/// <see cref="GpOptions.MaxDenseNodes"/> unknowns). For a linear PDE the objective is quadratic in U and one step with
/// μ → 0 is its exact minimiser; for a nonlinear one each further iteration is a damped Gauss–Newton step that LM
/// accepts only when it lowers the objective, so Adam's iterate is never made worse.
/// </summary>
public static class GridValueSolve
{
    public static void Run(GridGpField gp, StepContext ctx, IReadOnlyList<LossTerm> terms)
    {
        using var scope = NewDisposeScope();
        GridStep step;
        using (no_grad()) step = gp.Factorize();
        var objective = new GridValueResiduals(gp, step, ctx, terms);
        var options = new LmOptions { InitialDamping = gp.Options.SolveDamping };
        using var lm = new LevenbergMarquardt(objective, objective.Flatten(), options);
        for (int i = 0; i < gp.Options.SolveIterations; i++)
            if (lm.Step().Stop is not null) break;
        objective.Assign(lm.X); // the starting U when no step was accepted
    }
}
