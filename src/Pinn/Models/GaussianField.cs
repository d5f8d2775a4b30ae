using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// PIG, "Physics-Informed Gaussians as Adaptive Parametric Mesh Representations" (Kang, Oh, Hong &amp;
/// Park, ICLR 2025; PAPERS.md §2). Inputs are mapped affinely onto [0, 1]^d; k channels each hold N
/// Gaussians with trainable mean μ, per-axis scale σ and a scalar weight w, and the feature embedding
///   FE(x)_c = Σ_i w_ci exp(−½ (x − μ_ci)ᵀ Σ_ci⁻¹ (x − μ_ci))          (paper, eq. 4)
/// feeds a tiny MLP head k → 16 tanh → outputs (eq. 5). Diagonal Σ = diag(σ²) with σ = exp(log σ), so
/// a scale can never reach zero (the reference code's σ is unconstrained). Full covariance writes the
/// precision as AᵀA with A lower triangular, diagonal 1/σ and a trainable strictly-lower shear, so a
/// zero shear is exactly the diagonal model and a trained diagonal run is a valid starting point.
///
/// Memory: the dense sum builds points × (k·N) tensors one per axis (never points × k·N × d) and runs
/// over <see cref="GaussianFieldOptions.ChunkSize"/> points at a time. With a cut-off, only Gaussians
/// whose binned means are near a point are gathered (<see cref="GaussianBins"/>); autograd flows
/// through the gathers, so derivatives still come from the ordinary provider.
/// </summary>
public sealed partial class GaussianField : nn.Module<Tensor, Tensor>, IFieldModel
{
    readonly GaussianFieldOptions _o;
    readonly double[] _lo, _width;
    readonly ModuleList<nn.Module<Tensor, Tensor>> _head = new();
    readonly Func<Tensor, Tensor> _activation;
    readonly bool _full;

    /// <param name="seed">Seeds the means and weights and, unless <paramref name="generator"/> is given, the head.</param>
    /// <param name="generator">Draw the head's weights from this stream (a run's models share one); default: a fresh generator for <paramref name="seed"/>.</param>
    public GaussianField(GaussianFieldOptions o, IReadOnlyList<Geometry.Axis> axes, int outputDim, int seed, Generator? generator = null) : base("gaussian_field")
    {
        Validate(o);
        _o = o;
        _full = o.Covariance == "full";
        _activation = o.HeadActivation == "sin" ? t => t.sin() : t => t.tanh();
        int d = axes.Count, g = o.Channels * o.Count;
        _lo = axes.Select(a => a.Min).ToArray();
        _width = axes.Select(a => a.Max - a.Min).ToArray();
        InputDim = d;
        OutputDim = outputDim;

        // Means ~ U[0, 1)^d over the normalised box, σ = init_scale, w ~ N(0, std²) (paper §4, reference code).
        var rng = new Random(seed + 104729);
        var mu = new double[g, d];
        var w = new double[g];
        for (int i = 0; i < g; i++)
        {
            for (int j = 0; j < d; j++) mu[i, j] = rng.NextDouble();
            w[i] = o.WeightInitStd * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        }
        var means = tensor(mu, dtype: ScalarType.Float64);
        if (o.TrainMeans) register_parameter("means", new TorchParameter(means));
        else register_buffer("means", means);
        register_parameter("log_scales", new TorchParameter(full(g, d, Math.Log(o.InitScale), dtype: ScalarType.Float64)));
        register_parameter("weights", new TorchParameter(tensor(w, dtype: ScalarType.Float64)));
        if (_full) register_parameter("shear", new TorchParameter(zeros(g, Math.Max(1, d * (d - 1) / 2), dtype: ScalarType.Float64)));

        using var own = generator is null ? Initialisation.Generator(seed) : null;
        var stream = generator ?? own!;
        int prev = o.Channels;
        foreach (var h in o.Head)
        {
            _head.Add(Initialisation.GlorotLinear(prev, h, stream));
            prev = h;
        }
        _head.Add(Initialisation.GlorotLinear(prev, outputDim, stream));
        RegisterComponents();
    }

    static void Validate(GaussianFieldOptions o)
    {
        if (o.Channels < 1 || o.Count < 1)
            throw new PinnException($"model.gaussians: channels and count must be ≥ 1, got channels {o.Channels}, count {o.Count}") { Key = o.Channels < 1 ? "model.gaussians.channels" : "model.gaussians.count" };
        if (!(o.InitScale > 0)) throw new PinnException($"model.gaussians.init_scale must be > 0 (a fraction of the normalised box), got {o.InitScale}") { Key = "model.gaussians.init_scale" };
        if (o.Covariance is not ("diagonal" or "full"))
            throw new PinnException($"model.gaussians.covariance: unknown '{o.Covariance}' (use diagonal or full)") { Key = "model.gaussians.covariance" };
        if (o.HeadActivation is not ("tanh" or "sin"))
            throw new PinnException($"model.gaussians.head_activation: unknown '{o.HeadActivation}' (use tanh or sin)") { Key = "model.gaussians.head_activation" };
        if (o.Head.Any(h => h <= 0)) throw new PinnException($"model.gaussians.head must list positive widths, got [{string.Join(", ", o.Head)}]") { Key = "model.gaussians.head" };
        if (o.ChunkSize < 1) throw new PinnException($"model.gaussians.chunk_size must be ≥ 1, got {o.ChunkSize}") { Key = "model.gaussians.chunk_size" };
        if (o.Cutoff is { } c && !(c > 0)) throw new PinnException($"model.gaussians.cutoff must be > 0 (in σ), got {c}; leave it out for the exact sum") { Key = "model.gaussians.cutoff" };
        if (o.Cutoff is not null && o.Covariance == "full")
            throw new PinnException("model.gaussians.cutoff works with diagonal covariance only (the bins use per-axis σ); remove cutoff or use covariance: diagonal") { Key = "model.gaussians.cutoff" };
        if (!(o.CutoffQuantile > 0 && o.CutoffQuantile <= 1))
            throw new PinnException($"model.gaussians.cutoff_quantile must be in (0, 1], got {o.CutoffQuantile}") { Key = "model.gaussians.cutoff_quantile" };
        if (o.InitFrom is not null && o.Covariance != "full")
            throw new PinnException("model.gaussians.init_from starts a full-covariance model from a diagonal run; set covariance: full") { Key = "model.gaussians.init_from" };
    }

    /// <summary>k·N·(2d + 1) (+ k·N·d(d−1)/2 for full covariance) + the head's weights and biases (PAPERS.md §2: 97 for 4 → 16 → 1).</summary>
    public static long CountParameters(GaussianFieldOptions o, int inputDim, int outputDim)
    {
        long g = (long)o.Channels * o.Count;
        long perGaussian = (o.TrainMeans ? inputDim : 0) + inputDim + 1 + (o.Covariance == "full" ? Math.Max(1, inputDim * (inputDim - 1) / 2) : 0);
        long head = 0;
        int prev = o.Channels;
        foreach (var h in o.Head.Append(outputDim))
        {
            head += (long)prev * h + h;
            prev = h;
        }
        return g * perGaussian + head;
    }

    public int InputDim { get; }
    public int OutputDim { get; }

    IReadOnlyList<TorchParameter> GaussianParameters =>
        new[] { "means", "log_scales", "weights", "shear" }.Select(n => get_parameter(n)).Where(p => p is not null).Select(p => p!).ToList();

    IReadOnlyList<TorchParameter> HeadParameters => _head.parameters().ToList();

    public IReadOnlyList<TorchParameter> TrainableParameters => [.. GaussianParameters, .. HeadParameters];

    public IReadOnlyList<(IReadOnlyList<TorchParameter> Parameters, double LrScale)> ParameterGroups =>
        [(GaussianParameters, _o.GaussianLrScale), (HeadParameters, 1.0)];

    // Looked up by name: Module.to(dtype) replaces registered tensors, so fields would go stale (TORCHSHARP.md).
    Tensor Means => get_parameter("means") ?? get_buffer("means")!;
    Tensor LogScales => get_parameter("log_scales")!;
    Tensor Weights => get_parameter("weights")!;
    Tensor? Shear => get_parameter("shear");

    /// <summary>Points mapped affinely onto [0, 1]^d.</summary>
    Tensor Normalise(Tensor x) =>
        (x - tensor(_lo, dtype: x.dtype, device: x.device)) / tensor(_width, dtype: x.dtype, device: x.device);

    /// <summary>FE(x) (points × k); <paramref name="useCutoff"/> overrides the configured evaluation (for tests and timings).</summary>
    public Tensor Embed(Tensor points, bool? useCutoff = null)
    {
        var x = Normalise(points);
        bool cut = useCutoff ?? _o.Cutoff is not null;
        if (cut && _full) throw new PinnException("model.gaussians.cutoff works with diagonal covariance only");
        double cutoff = _o.Cutoff ?? DefaultTimingCutoff;
        var bins = cut ? GaussianBins.Build(Means, LogScales, cutoff, _o.CutoffQuantile) : null;
        if (bins is not null) _capture?.Refuse("PIG's cut-off evaluation (Gaussians gathered per point)");
        Tensor Sum(Tensor xc, long row0) => bins is null ? DenseSum(xc, row0) : bins.Sum(xc, Means, LogScales, Weights, _o.Count, _o.Channels);
        long n = x.shape[0];
        if (n <= _o.ChunkSize) return Sum(x, 0);
        var parts = new List<Tensor>();
        for (long s = 0; s < n; s += _o.ChunkSize) parts.Add(Sum(x[TensorIndex.Slice(s, Math.Min(n, s + _o.ChunkSize))], s));
        return cat(parts, 0);
    }

    /// <summary>Cut-off used when a caller forces cut-off evaluation on a model configured without one.</summary>
    public const double DefaultTimingCutoff = 4.0;

    /// <summary>The exact sum over all k·N Gaussians, one points × (k·N) tensor per axis (rows <paramref name="row0"/>… of the pass).</summary>
    Tensor DenseSum(Tensor x, long row0)
    {
        long p = x.shape[0];
        var mu = Read(Means, p, row0);
        var inv = (-Read(LogScales, p, row0)).exp();
        var shear = Shear is { } sh ? Read(sh, p, row0) : null;
        int d = InputDim;
        var diffs = new Tensor[d];
        Tensor? q = null;
        for (int j = 0; j < d; j++)
        {
            diffs[j] = x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)] - mu.select(-1, j); // P × kN
            var z = diffs[j] * inv.select(-1, j);
            if (_full)
                for (int i = 0; i < j; i++)
                    z = z + diffs[i] * shear!.select(-1, j * (j - 1) / 2 + i);
            var zz = z.square();
            q = q is null ? zz : q + zz;
        }
        var gauss = (-0.5 * q!).exp() * Read(Weights, p, row0); // P × kN
        return gauss.view(p, _o.Channels, _o.Count).sum(2);
    }

    public override Tensor forward(Tensor points)
    {
        long n = points.shape[0];
        using var pass = BeginPass(n);
        var h = Embed(points);
        for (int i = 0; i < _head.Count; i++)
        {
            var layer = (Linear)_head[i];
            h = pass.Recording ? PerSampleLinear(h, Read(layer.weight!, n, 0), layer.bias is { } b ? Read(b, n, 0) : null) : layer.forward(h);
            if (i < _head.Count - 1) h = _activation(h);
        }
        return h;
    }

    public Tensor Forward(Tensor points) => forward(points);

    // ---- per-sample parameter views for the exact per-sample Jacobian (OPTIMIZERS.md §9) ---------------

    LayerCapture? _capture;
    List<SampledParameter>? _pass;

    /// <summary>
    /// Starts a capture in which every forward pass reads each trainable parameter p through a per-sample view
    /// (rows × p.shape, <see cref="SampledParameter"/>): the Gaussian sum and the head are pointwise in the samples, so one
    /// backward of Σ r̃ gives every row's ∂r_i/∂p at once — PIG's exact Jacobian at the cost of about one gradient, where the
    /// row-by-row route needs one backward per residual (~60 s per Levenberg–Marquardt step at 800 points). The views cost
    /// rows × k·N × d memory, the order of the forward's own P × kN tensors. Cut-off evaluation (gathered Gaussians) refuses.
    /// </summary>
    public LayerCapture? BeginCapture() =>
        _capture is not null ? null : _capture = new LayerCapture(c => { if (ReferenceEquals(_capture, c)) _capture = null; }, []);

    /// <summary>p itself, or while a pass is recorded its per-sample view for rows <paramref name="row0"/>… (buffers stay shared).</summary>
    Tensor Read(Tensor p, long rows, long row0)
    {
        if (_pass is null || !p.requires_grad || _capture?.Refused is not null) return p; // a refused capture: the ordinary arithmetic
        var view = p.unsqueeze(0).expand([rows, .. p.shape]);
        _pass.Add(new SampledParameter(p, view, row0));
        return view;
    }

    /// <summary>Opens the recording of one pass of <paramref name="rows"/> samples (a no-op without a capture or inside another pass).</summary>
    Pass BeginPass(long rows) => new(this, _capture is not null && _pass is null ? rows : -1);

    readonly struct Pass : IDisposable
    {
        readonly GaussianField _owner;
        readonly long _rows;
        public Pass(GaussianField owner, long rows)
        {
            _owner = owner;
            _rows = rows;
            if (rows >= 0) owner._pass = [];
        }
        public bool Recording => _rows >= 0 && _owner._capture?.Refused is null;
        public void Dispose()
        {
            if (!Recording) return;
            var sampled = _owner._pass!;
            _owner._pass = null;
            _owner._capture!.Passes.Add(new CapturedPass([], []) { Sampled = sampled, Samples = _rows });
        }
    }

    /// <summary>
    /// y_i = W_i h_i (+ b_i) with per-sample weights W (rows × out × in); h rows × in, or 1 × in for a constant block. Its sums
    /// run in another order than the head's matrix product, so captured residuals differ from the ordinary ones by rounding
    /// (2.7e-20 absolute measured under MKL's AVX2 and AVX-512 kernels; equal on this AMD machine's generic path).
    /// </summary>
    static Tensor PerSampleLinear(Tensor h, Tensor weight, Tensor? bias)
    {
        var y = (weight * h.unsqueeze(1)).sum(dim: 2);
        return bias is null ? y : y + bias;
    }

    /// <summary>Copies a diagonal model's μ, σ, weights and head into this full-covariance one (shear stays 0).</summary>
    public void InitialiseFrom(GaussianField diagonal)
    {
        if (diagonal._full || !_full) throw new PinnException("model.gaussians.init_from: expected a diagonal run to start a full-covariance model");
        var src = diagonal.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name == "shear") continue;
            if (!src.TryGetValue(name, out var s) || !s.shape.SequenceEqual(p.shape))
                throw new PinnException($"model.gaussians.init_from: the diagonal run has no matching '{name}' (was it trained with the same channels, count and head?)");
            p.copy_(s);
        }
    }

    public string Describe()
    {
        var cov = _full ? "full" : "diagonal";
        var cut = _o.Cutoff is { } c ? $", cut-off {c:G3}σ" : "";
        return $"PIG {_o.Channels}×{_o.Count} Gaussians ({cov}{cut}) in {InputDim}-d → [{string.Join("×", _o.Head)} {_o.HeadActivation}]→{OutputDim}, " +
               $"{((IFieldModel)this).ParameterCount} parameters";
    }
}
