using Pinn.Gp;
using Pinn.Symbolic;
using Pinn.Training;
using static TorchSharp.torch;

namespace Pinn.Bench;

/// <summary>
/// The GP solver's objective computed the textbook way, as the baseline the Kronecker path is measured
/// against: the full covariance K = K_1 ⊗ … ⊗ K_d formed densely (N × N), one dense Cholesky, the prior
/// ½ uᵀK⁻¹u + ½ log|K|, and each field derivative as the dense operator (K_1^(a_1) ⊗ … ⊗ K_d^(a_d)) K⁻¹
/// applied to u. The product operator is applied as (⊗K^(a)) (K⁻¹u) — one solve shared by all
/// derivatives — rather than formed as a matrix: forming it would add 2N³ per operator and only
/// flatter the Kronecker path. Same kernels, jitter, residual expressions, nodes and precisions as
/// <see cref="GpLoss"/>, so the two losses agree to rounding (checked by the benchmark and a test).
/// </summary>
public static class DenseGpObjective
{
    /// <summary>The prior plus Σ_k λ_k L_k over the GP's terms, as the Trainer sums them.</summary>
    public static Tensor Loss(GridGpField gp, IReadOnlyList<LossTerm> terms, StepContext ctx) =>
        Terms(gp, terms, ctx).Select(t => t.Term.Weight * t.Loss).Aggregate(Prior(gp, ctx), (a, b) => a + b);

    /// <summary>The prior −log N(vec U | 0, K) of every field, from the dense Cholesky (the model's <see cref="GridGpField.PriorLoss"/>).</summary>
    public static Tensor Prior(GridGpField gp, StepContext ctx)
    {
        var provider = new DenseProvider(gp, ctx);
        return Enumerable.Range(0, gp.OutputDim).Select(provider.NegativeLogPrior).Aggregate((a, b) => a + b);
    }

    /// <summary>Each term's unweighted loss, for comparing term by term with <see cref="LossTerm.Loss"/>.</summary>
    public static IReadOnlyList<(LossTerm Term, Tensor Loss)> Terms(GridGpField gp, IReadOnlyList<LossTerm> terms, StepContext ctx)
    {
        var provider = new DenseProvider(gp, ctx);
        var eval = new TensorEvaluator(provider);
        return terms.Select(term => (term, term switch
        {
            GpLikelihoodTerm t => gp.Precisions.NegativeLogLikelihood(t.Name, eval.Evaluate(t.Residual).index_select(0, t.Nodes)),
            _ => throw new NotSupportedException($"dense GP baseline: term '{term.Name}' ({term.GetType().Name}) is not implemented"),
        })).ToList();
    }

    /// <summary>The dense field-derivative provider on its own (for checks against <see cref="GridFieldProvider"/>).</summary>
    public static IFieldProvider Provider(GridGpField gp, StepContext ctx) => new DenseProvider(gp, ctx);

    /// <summary>Field derivatives at every grid node (row-major, as <see cref="GridFieldProvider"/>) from dense N × N algebra.</summary>
    sealed class DenseProvider : IFieldProvider
    {
        readonly GridGpField _gp;
        readonly StepContext _ctx;
        readonly Tensor[] _jittered;            // K_j + jitter·I, exactly as GridStep builds them
        readonly Tensor _lower;                 // Cholesky factor of ⊗ K_j (N × N)
        readonly Dictionary<int, Tensor> _alpha = [];
        readonly Dictionary<(int, string), Tensor> _fields = [];

        public DenseProvider(GridGpField gp, StepContext ctx)
        {
            _gp = gp;
            _ctx = ctx;
            _jittered = Enumerable.Range(0, gp.Axes.Count).Select(j =>
            {
                var k = KernelMatrix(j, 0);
                return k + gp.Options.Jitter * k.diagonal().mean() * eye(gp.Axes[j].Count, dtype: k.dtype, device: k.device);
            }).ToArray();
            _lower = linalg.cholesky(_jittered.Aggregate(kron));
        }

        public ScalarType DType => _gp.DType;
        public Device Device => _gp.Device;
        public long Count => _gp.NodeCount;
        public Tensor Coordinate(string name) => _gp.Coordinates[IndexOf(_ctx.Coordinates, name, "coordinate")];
        public Tensor Parameter(string name) => _ctx.Parameter(name);

        public Tensor Field(FieldDerivative derivative)
        {
            int f = IndexOf(_ctx.Fields, derivative.Field, "field");
            var u = _gp.Values(f).reshape(-1);
            if (derivative.Wrt.Count == 0) return u;
            var key = (f, string.Join(",", derivative.Wrt.Order()));
            if (_fields.TryGetValue(key, out var cached)) return cached;
            var factors = _gp.Axes.Select((a, j) =>
            {
                int order = derivative.Wrt.Count(w => w == a.Axis.Name);
                return order == 0 ? _jittered[j] : KernelMatrix(j, order);
            });
            var op = factors.Aggregate(kron);                            // N × N
            var value = op.mm(Alpha(f).unsqueeze(1)).squeeze(1);
            _fields[key] = value;
            return value;
        }

        /// <summary>½ uᵀK⁻¹u + ½ log|K| with the dense Cholesky factor.</summary>
        public Tensor NegativeLogPrior(int f)
        {
            var z = linalg.solve_triangular(_lower, _gp.Values(f).reshape(-1, 1), upper: false);
            return 0.5 * z.square().sum() + _lower.diagonal().log().sum();
        }

        Tensor Alpha(int f)
        {
            if (!_alpha.TryGetValue(f, out var a))
                _alpha[f] = a = cholesky_solve(_gp.Values(f).reshape(-1, 1), _lower, upper: false).squeeze(1);
            return a;
        }

        Tensor KernelMatrix(int axis, int order)
        {
            var a = _gp.Axes[axis];
            return _gp.Kernels[axis].Evaluate(a.Lags(_gp.DType, _gp.Device), order).take(a.LagIndex);
        }

        static int IndexOf(IReadOnlyList<string> names, string name, string what)
        {
            for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
            throw new PinnException($"dense GP baseline: unknown {what} '{name}'");
        }
    }
}
