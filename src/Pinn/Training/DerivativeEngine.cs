using Pinn.Autodiff;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Symbolic;

namespace Pinn.Training;

/// <summary>Chooses between nested autograd and Taylor-mode jets for a run (<c>training.derivatives</c>).</summary>
public static class DerivativeEngine
{
    /// <summary>Jets win from third-order residuals on (KS: ~2×); for first and second order autograd ties or wins (make bench).</summary>
    public const int AutoJetFromOrder = 3;

    /// <summary>Every ∂^α u in the problem's equations and conditions, as coordinate multi-indices.</summary>
    public static IReadOnlyList<MultiIndex> Needed(Problem problem)
    {
        var coords = problem.Domain.CoordinateNames.ToList();
        var exprs = problem.Equations.Select(e => e.Equation.Residual).Concat(problem.Conditions.SelectMany(c => c.Expressions));
        return exprs.SelectMany(e => e.Descendants().OfType<FieldDerivative>())
                    .Select(d => MultiIndex.Of(d.Wrt.Select(w => coords.IndexOf(w))))
                    .Append(MultiIndex.Zero).Distinct().ToList();
    }

    /// <summary>The jet set (downward closure of what the problem needs) when jets are used, else null (autograd).</summary>
    public static IReadOnlyList<MultiIndex>? JetSet(string engine, IFieldModel model, Problem problem)
    {
        var jets = model as IJetModel;
        if (engine == "jet" && jets is null)
            throw new PinnException($"training.derivatives: jet is implemented for the mlp, modified_mlp and pig (diagonal) models, not for '{model.GetType().Name}'; use autograd or auto");
        var needed = Needed(problem);
        int order = needed.Max(m => m.Order);
        bool useJet = engine switch
        {
            "jet" => true,
            "autograd" => false,
            _ => jets is not null && order >= jets.AutoJetFromOrder,
        };
        return useJet ? MultiIndex.Closure(needed) : null;
    }
}
