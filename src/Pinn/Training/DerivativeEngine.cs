using Pinn.Autodiff;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Symbolic;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Chooses between nested autograd and Taylor-mode jets for a run (<c>training.derivatives</c>).</summary>
public static class DerivativeEngine
{
    /// <summary>
    /// Jets win from third-order residuals on (KS step ~3× at 1 thread); at second order only when an operator block
    /// saves a block (see <see cref="JetSet"/>); at first order autograd wins (make bench: pinn, derivatives).
    /// </summary>
    public const int AutoJetFromOrder = 3;

    /// <summary>Every ∂^α u in the problem's equations and conditions, as coordinate multi-indices.</summary>
    public static IReadOnlyList<MultiIndex> Needed(Problem problem)
    {
        var exprs = problem.Equations.Select(e => e.Equation.Residual).Concat(problem.Conditions.SelectMany(c => c.Expressions));
        return exprs.SelectMany(e => e.Descendants().OfType<FieldDerivative>())
                    .Select(d => MultiIndex.Of(d, problem.Domain.CoordinateNames))
                    .Append(MultiIndex.Zero).Distinct().ToList();
    }

    /// <summary>
    /// Per batch of points, the linear operator a jet may carry as one block (<see cref="LinearPart.Find"/> over
    /// every expression evaluated at that batch), where it saves blocks. Batches that something other than a
    /// residual reads (periodic matching, data terms) or a term type this does not know are left alone.
    /// </summary>
    public static IReadOnlyList<(PointSet Set, LinearOperator Operator)> LinearOperators(IEnumerable<LossTerm> terms, Problem problem)
    {
        var expressions = new Dictionary<PointSet, List<Expr>>(ReferenceEqualityComparer.Instance);
        var excluded = new HashSet<PointSet>(ReferenceEqualityComparer.Instance);
        void Add(PointSet set, Expr e) => (expressions.TryGetValue(set, out var list) ? list : expressions[set] = []).Add(e);
        foreach (var term in terms)
            switch (term)
            {
                case ResidualTerm r: Add(r.Points, r.Residual); break;
                case CausalResidualTerm c:
                    foreach (var e in c.Residuals) Add(c.Points, e);
                    foreach (var i in c.Initial) Add(i.Points, i.Residual);
                    break;
                case PeriodicTerm p: excluded.Add(p.Points); break; // its partner points are its own tensor, not a PointSet
                case DataTerm d: excluded.Add(d.Points); break;
                case IntegralTerm or ObservationTerm: break; // fixed points of their own, no PointSet
                default: return [];
            }
        var found = new List<(PointSet, LinearOperator)>();
        foreach (var (set, exprs) in expressions)
            if (!excluded.Contains(set) && SavingOperator(exprs, problem) is { } op) found.Add((set, op));
        return found;
    }

    /// <summary>The first field's linear operator over <paramref name="expressions"/> that a jet carries in fewer blocks, or null.</summary>
    static LinearOperator? SavingOperator(IReadOnlyList<Expr> expressions, Problem problem)
    {
        MultiIndex Index(FieldDerivative d) => MultiIndex.Of(d, problem.Domain.CoordinateNames);
        var needed = expressions.SelectMany(e => e.Descendants()).OfType<FieldDerivative>().Distinct().ToList();
        foreach (var field in problem.Fields)
        {
            if (LinearPart.Find(expressions, field, problem.FixedParameterValues) is not { } op) continue;
            int without = MultiIndex.Closure(needed.Select(Index).Append(MultiIndex.Zero)).Count;
            var rest = needed.Where(d => !op.Members.Contains(d)).Select(Index).Append(MultiIndex.Zero);
            int with = JetFieldProvider.SetWithOperator(rest, op.Members.Select(Index)).Count + 1;
            if (with < without) return op; // one operator per batch
        }
        return null;
    }

    /// <summary>
    /// The jet set (downward closure of what the problem needs) when jets are used, else null (autograd).
    /// <c>auto</c> takes jets from the model's <see cref="IJetModel.AutoJetFromOrder"/>, and for second-order
    /// equations on the CPU when the model carries operator blocks and the equations' linear part saves one
    /// (Burgers: 1.2–1.4× faster than nested autograd at 1 thread, 1.1× at 2; make bench ARGS="--only pinn").
    /// With <paramref name="preferJets"/> (a Levenberg–Marquardt phase is planned) <c>auto</c> takes jets whenever the model
    /// has them: the per-sample Jacobian's fast path reads the jets' layers (Poisson 1-D, N 258 × P 901: 6.7 s for Adam 1000 →
    /// LM 300 with jets against 91 s with nested autograd's row-by-row Jacobian).
    /// </summary>
    public static IReadOnlyList<MultiIndex>? JetSet(string engine, IFieldModel model, Problem problem, Device? device = null, bool preferJets = false)
    {
        var jets = model as IJetModel;
        if (engine == "jet" && jets is null)
            throw new PinnException($"training.derivatives: jet is implemented for the mlp, modified_mlp and pig (diagonal) models, not for '{model.GetType().Name}'; use autograd or auto") { Key = "training.derivatives" };
        var needed = Needed(problem);
        int order = needed.Max(m => m.Order);
        bool useJet = engine switch
        {
            "jet" => true,
            "autograd" => false,
            // preferJets only where the fast Jacobian can read the jets (fused tanh MLP on the CPU, order ≤ 4); it also puts
            // the run's other phases (the Adam warm-up) on jets.
            _ => jets is not null && (preferJets && Optimizers.ResidualObjective.HasFastJacobian(model) && order <= 4 && (device ?? CPU).type == DeviceType.CPU
                                      || order >= jets.AutoJetFromOrder
                                      || order == 2 && jets.CanCarryOperators && (device ?? CPU).type == DeviceType.CPU
                                         && SavingOperator(problem.Equations.Select(e => e.Equation.Residual).ToList(), problem) is not null),
        };
        return useJet ? MultiIndex.Closure(needed) : null;
    }
}
