using Pinn.Autodiff;
using Pinn.Problems;
using Pinn.Symbolic;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// A network N wrapped so that initial and Dirichlet conditions hold by construction (model.hard_constraints):
/// u_k = A_k(x, t) + W_k(x, t)·N_k(x, t), with A and W from <see cref="ConstraintAnsatz"/>. Every derivative engine sees
/// this field: autograd differentiates <see cref="Forward"/> (A and W are evaluated on the points, so the graph holds
/// them); jets combine the network's jet with the jets of A and W, whose blocks ∂^α A, ∂^α W are the symbolic derivatives
/// evaluated at the points (plain tensors: they do not depend on the parameters), by Leibniz. The wrapper carries no
/// operator blocks: L(W·N) is not W·L N, so the trainer's fused operator path is never chosen for it. The parameters,
/// groups and prior are the network's, so checkpoints of a wrapped and an unwrapped network have the same layout.
/// </summary>
public sealed class ConstrainedField : IJetModel
{
    readonly IFieldModel _net;
    readonly ConstraintAnsatz _ansatz;
    readonly IReadOnlyList<string> _coordinates;
    readonly IReadOnlyDictionary<string, double> _parameters;
    readonly string _describe;
    readonly Dictionary<MultiIndex, (Expr[] A, Expr[] W)> _derivatives = [];

    /// <param name="periodicAxes">Coordinates the network embeds periodically (model.periodic): no Dirichlet side may lie on them.</param>
    public ConstrainedField(IFieldModel network, Problem problem, HardConstraintOptions options, IEnumerable<string>? periodicAxes = null)
    {
        if (network.OutputDim != problem.Fields.Count)
            throw new ArgumentException($"the network has {network.OutputDim} outputs for {problem.Fields.Count} fields", nameof(network));
        _net = network;
        _ansatz = ConstraintAnsatz.Build(problem, options, periodicAxes);
        _coordinates = problem.Domain.CoordinateNames;
        _parameters = problem.ParameterValues.ToDictionary();
        _describe = _ansatz.Describe(problem.Fields);
    }

    /// <summary>The wrapped network N.</summary>
    public IFieldModel Network => _net;

    /// <summary>The network's capture: A and W are fixed functions of the points, so J of A + W·N is W·J(N), row by row.</summary>
    public LayerCapture? BeginCapture() => _net.BeginCapture();
    public ConstraintAnsatz Ansatz => _ansatz;

    public int InputDim => _net.InputDim;
    public int OutputDim => _net.OutputDim;
    public IReadOnlyList<TorchParameter> TrainableParameters => _net.TrainableParameters;
    public IReadOnlyList<(IReadOnlyList<TorchParameter> Parameters, double LrScale)> ParameterGroups => _net.ParameterGroups;
    public Tensor? PriorLoss(Training.StepContext ctx) => _net.PriorLoss(ctx);
    public string PriorDescription => _net.PriorDescription;
    public IEnumerable<(string Name, double Value)> Diagnostics => _net.Diagnostics;
    public IReadOnlyCollection<string> EnforcedConditions => _ansatz.Enforced;
    public string Describe() => $"{_net.Describe()}; {_describe}";

    public Tensor Forward(Tensor points)
    {
        var n = _net.Forward(points);
        var ev = new TensorEvaluator(new CoordinateProvider(points, _coordinates, _parameters));
        var columns = new Tensor[OutputDim];
        for (int k = 0; k < OutputDim; k++)
        {
            Expr a = _ansatz.Offsets[k], w = _ansatz.Factors[k];
            var nk = n[TensorIndex.Colon, k];
            var u = IsConstant(w, 1) ? nk : ev.Evaluate(w) * nk;
            columns[k] = IsConstant(a, 0) ? u : ev.Evaluate(a) + u;
        }
        return OutputDim == 1 ? columns[0].unsqueeze(1) : stack(columns, 1);
    }

    // ---- jets --------------------------------------------------------------------------------

    public int AutoJetFromOrder => _net is IJetModel j ? j.AutoJetFromOrder : int.MaxValue;

    /// <summary>No operator blocks: the product W·N mixes the members of L u with lower derivatives.</summary>
    public bool CanCarryOperators => false;
    public bool CarriesOperators(Tensor x) => false;

    public Jet ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set)
    {
        if (_net is not IJetModel jets)
            throw new PinnException($"training.derivatives: jets need a jet model inside the hard constraints, not '{_net.GetType().Name}'; use autograd") { Key = "training.derivatives" };
        var n = jets.ForwardJet(x, set);
        var ev = new TensorEvaluator(new CoordinateProvider(x.detach(), _coordinates, _parameters));
        var a = new Dictionary<MultiIndex, Tensor>();
        var w = new Dictionary<MultiIndex, Tensor>();
        foreach (var alpha in set)
        {
            var (da, dw) = Derivatives(alpha);
            if (Columns(ev, da) is { } ta) a[alpha] = ta;
            if (Columns(ev, dw) is { } tw) w[alpha] = tw;
        }
        var product = new Jet(set, w) * n;
        return a.Count == 0 ? product : new Jet(set, a) + product;
    }

    /// <summary>∂^α A_k and ∂^α W_k for every field (symbolic, computed once per α).</summary>
    (Expr[] A, Expr[] W) Derivatives(MultiIndex alpha)
    {
        if (_derivatives.TryGetValue(alpha, out var d)) return d;
        var wrt = alpha.Coordinates().Select(j => _coordinates[j]).ToArray();
        d = (_ansatz.Offsets.Select(e => Sym.D(e, wrt)).ToArray(), _ansatz.Factors.Select(e => Sym.D(e, wrt)).ToArray());
        _derivatives[alpha] = d;
        return d;
    }

    /// <summary>The expressions side by side (N × fields), or null when all are zero (a jet's missing block).</summary>
    static Tensor? Columns(TensorEvaluator ev, Expr[] exprs)
    {
        if (exprs.All(e => IsConstant(e, 0))) return null;
        var cols = exprs.Select(ev.Evaluate).ToArray();
        return cols.Length == 1 ? cols[0].unsqueeze(1) : stack(cols, 1);
    }

    static bool IsConstant(Expr e, double value) => e is Constant c && c.Value == value;

    public void Dispose() => _net.Dispose();
}
