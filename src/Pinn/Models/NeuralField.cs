using Pinn.Autodiff;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// The PINN network: input embedding (affine map of each coordinate onto [−1, 1], or an exact
/// periodic embedding; optional random Fourier features), then a plain MLP or a modified MLP, with
/// tanh or sine activations and Glorot-uniform initialisation (Glorot &amp; Bengio 2010), drawn from the
/// model's own generator (<see cref="Initialisation"/>).
/// Modified MLP (Wang, Teng &amp; Perdikaris 2021, as in PAPERS.md §1): U = σ(XW_u + b_u),
/// V = σ(XW_v + b_v), and each hidden layer Z = σ(HW + b), H ← (1 − Z) ⊙ U + Z ⊙ V.
/// </summary>
public sealed class NeuralField : nn.Module<Tensor, Tensor>, IJetModel
{
    readonly ModuleList<nn.Module<Tensor, Tensor>> _hidden = new();
    readonly nn.Module<Tensor, Tensor> _output;
    readonly nn.Module<Tensor, Tensor>? _encoderU, _encoderV;
    readonly Func<Tensor, Tensor> _activation;
    readonly Func<Tensor, int, Tensor[]> _activationDerivatives;
    readonly bool _tanh; // the fused jet path is written for tanh
    readonly AxisEmbedding[] _axes;
    readonly double[,]? _fourier; // B (embedded dim × features), fixed
    readonly string _describe;

    /// <summary>How one input coordinate enters the network.</summary>
    sealed record AxisEmbedding(double Center, double HalfWidth, double Omega, int Harmonics)
    {
        public int Width => Harmonics > 0 ? 2 * Harmonics : 1;
    }

    /// <param name="seed">Seeds the Fourier features and, unless <paramref name="generator"/> is given, the weights.</param>
    /// <param name="generator">Draw the weights from this stream (a run's models share one); default: a fresh generator for <paramref name="seed"/>.</param>
    public NeuralField(ModelOptions o, IReadOnlyList<Geometry.Axis> axes, int outputDim, int seed, Generator? generator = null) : base("neural_field")
    {
        if (o.Layers.Count == 0 || o.Layers.Any(h => h <= 0))
            throw new PinnException($"model.layers must list positive hidden widths, got [{string.Join(", ", o.Layers)}]") { Key = "model.layers" };
        bool modified = o.Type switch
        {
            "mlp" => false,
            "modified_mlp" => true,
            _ => throw new PinnException($"model.type: unknown model '{o.Type}' (available: mlp, modified_mlp)") { Key = "model.type" },
        };
        if (modified && o.Layers.Distinct().Count() != 1)
            throw new PinnException($"model.layers: a modified MLP needs equal hidden widths, got [{string.Join(", ", o.Layers)}]") { Key = "model.layers" };
        _activation = o.Activation switch
        {
            "tanh" => t => t.tanh(),
            "sin" => t => t.sin(),
            _ => throw new PinnException($"model.activation: unknown activation '{o.Activation}' (use tanh or sin)") { Key = "model.activation" },
        };
        _activationDerivatives = o.Activation == "tanh" ? Jet.TanhDerivatives : Jet.SinDerivatives;
        _tanh = o.Activation == "tanh";
        foreach (var name in o.Periodic.Keys.Where(n => axes.All(a => a.Name != n)))
            throw new PinnException($"model.periodic: '{name}' is not a coordinate ({string.Join(", ", axes.Select(a => a.Name))})") { Key = $"model.periodic.{name}" };

        _axes = axes.Select(a =>
        {
            if (o.Periodic.TryGetValue(a.Name, out var p))
            {
                if (p.Harmonics < 1) throw new PinnException($"model.periodic.{a.Name}.harmonics must be ≥ 1") { Key = $"model.periodic.{a.Name}.harmonics" };
                return new AxisEmbedding(0, 1, 2 * Math.PI / (p.Period ?? a.Length), p.Harmonics);
            }
            return o.NormalizeInputs
                ? new AxisEmbedding((a.Min + a.Max) / 2, (a.Max - a.Min) / 2, 0, 0)
                : new AxisEmbedding(0, 1, 0, 0);
        }).ToArray();
        int width = _axes.Sum(e => e.Width);
        if (o.FourierFeatures > 0)
        {
            var rng = new Random(seed + 7919);
            _fourier = new double[width, o.FourierFeatures];
            for (int i = 0; i < width; i++)
                for (int j = 0; j < o.FourierFeatures; j++)
                    _fourier[i, j] = o.FourierScale * Gaussian(rng);
            width = 2 * o.FourierFeatures;
        }

        using var own = generator is null ? Initialisation.Generator(seed) : null;
        var stream = generator ?? own!;
        nn.Module<Tensor, Tensor> Dense(int inputs, int outputs) => o.WeightFactorization is { } rwf
            ? new FactorizedLinear(inputs, outputs, rwf.Mean, rwf.Std, stream)
            : Initialisation.GlorotLinear(inputs, outputs, stream);

        if (modified)
        {
            _encoderU = Dense(width, o.Layers[0]);
            _encoderV = Dense(width, o.Layers[0]);
        }
        int prev = width;
        foreach (var h in o.Layers)
        {
            _hidden.Add(Dense(prev, h));
            prev = h;
        }
        _output = Dense(prev, outputDim);
        RegisterComponents();
        InputDim = axes.Count;
        OutputDim = outputDim;
        var extras = new List<string>();
        if (o.Periodic.Count > 0) extras.Add("periodic " + string.Join(",", o.Periodic.Keys));
        if (o.FourierFeatures > 0) extras.Add($"{o.FourierFeatures} Fourier features (σ={o.FourierScale:G3})");
        if (o.WeightFactorization is not null) extras.Add("weight factorisation");
        _describe = $"{(modified ? "modified MLP" : "MLP")} {InputDim}→[{string.Join("×", o.Layers)} {o.Activation}]→{OutputDim}" +
                    (extras.Count > 0 ? $" ({string.Join("; ", extras)})" : "");
    }

    static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public int InputDim { get; }
    public int OutputDim { get; }
    public IReadOnlyList<TorchParameter> TrainableParameters => parameters().ToList();

    Tensor Embed(Tensor x)
    {
        var cols = new List<Tensor>();
        for (int j = 0; j < _axes.Length; j++)
        {
            var e = _axes[j];
            var xj = x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)];
            if (e.Harmonics == 0)
            {
                cols.Add((xj - e.Center) / e.HalfWidth);
                continue;
            }
            var k = arange(1, e.Harmonics + 1, dtype: x.dtype, device: x.device) * e.Omega;
            var kx = xj * k; // N × m
            cols.Add(kx.cos());
            cols.Add(kx.sin());
        }
        var h = cols.Count == 1 ? cols[0] : cat(cols, 1);
        if (_fourier is null) return h;
        var proj = h.mm(tensor(_fourier, dtype: x.dtype, device: x.device));
        return cat([proj.cos(), proj.sin()], 1);
    }

    public override Tensor forward(Tensor x)
    {
        var h = Embed(x);
        if (_capture is { } capture)
        {
            if (x.requires_grad) capture.Refuse("a plain forward pass at points that require grad (autograd derivatives)");
            else return CapturedForward(h, capture);
        }
        if (_encoderU is null)
        {
            foreach (var layer in _hidden) h = _activation(layer.forward(h));
            return _output.forward(h);
        }
        var u = _activation(_encoderU.forward(h));
        var v = _activation(_encoderV!.forward(h));
        foreach (var layer in _hidden)
        {
            var z = _activation(layer.forward(h));
            h = (1 - z) * u + z * v;
        }
        return _output.forward(h);
    }

    public Tensor Forward(Tensor points) => forward(points);

    // ---- layer capture for the exact per-sample Jacobian (OPTIMIZERS.md §9) -------------------------

    LayerCapture? _capture;

    /// <summary>
    /// Starts recording, for every forward pass until the returned capture is disposed, each dense layer's input A and
    /// output before the activation z (K×N×w on the stacked jet path, N×w on a plain forward), so that the per-sample
    /// Jacobian of pointwise residuals follows from one backward per residual block
    /// (<see cref="Training.Optimizers.ResidualObjective"/>). Every parameter of a tanh network (plain or modified MLP,
    /// dense or weight-factorised layers) sits in such a layer; null for sine activations and when a capture is already
    /// running. Passes the construction cannot use (the unfused jet path, a plain forward at points that require grad) mark
    /// the capture refused. Training without a capture pays one null check per forward pass.
    /// </summary>
    public LayerCapture? BeginCapture()
    {
        if (_capture is not null || !_tanh) return null;
        var modules = CapturedLayers().ToList();
        if (modules.Any(l => l is not Linear and not FactorizedLinear)) return null;
        var layers = modules.Select(l => l switch
        {
            Linear d => new CapturedLayer(d.weight!, d.bias, null, null),
            FactorizedLinear f => new CapturedLayer(f.Weight.detach(), f.Bias, f.Scale, f.Direction),
            _ => throw new InvalidOperationException(),
        }).ToList();
        return _capture = new LayerCapture(EndCapture, layers);
    }

    /// <summary>The dense layers in the order of a <see cref="CapturedPass"/>: hidden, output, then the modified MLP's encoders.</summary>
    IEnumerable<nn.Module<Tensor, Tensor>> CapturedLayers() =>
        _encoderU is null ? _hidden.Append(_output) : _hidden.Append(_output).Append(_encoderU).Append(_encoderV!);

    int LayerIndex(nn.Module<Tensor, Tensor> layer)
    {
        if (ReferenceEquals(layer, _output)) return _hidden.Count;
        if (ReferenceEquals(layer, _encoderU)) return _hidden.Count + 1;
        if (ReferenceEquals(layer, _encoderV)) return _hidden.Count + 2;
        for (int l = 0; l < _hidden.Count; l++) if (ReferenceEquals(layer, _hidden[l])) return l;
        throw new InvalidOperationException("not a layer of this network");
    }

    void EndCapture(LayerCapture capture)
    {
        if (ReferenceEquals(_capture, capture)) _capture = null;
    }

    /// <summary><see cref="forward"/> with every layer's input and output kept (the layers' own forward, bias included: same values).</summary>
    Tensor CapturedForward(Tensor h, LayerCapture capture)
    {
        int count = capture.Layers.Count;
        var inputs = new Tensor[count];
        var outputs = new Tensor[count];
        Tensor Layer(nn.Module<Tensor, Tensor> layer, Tensor x)
        {
            int l = LayerIndex(layer);
            inputs[l] = x;
            return outputs[l] = layer.forward(x);
        }
        Tensor result;
        if (_encoderU is null)
        {
            foreach (var layer in _hidden) h = _activation(Layer(layer, h));
            result = Layer(_output, h);
        }
        else
        {
            var u = _activation(Layer(_encoderU, h));
            var v = _activation(Layer(_encoderV!, h));
            foreach (var layer in _hidden)
            {
                var z = _activation(Layer(layer, h));
                h = (1 - z) * u + z * v;
            }
            result = Layer(_output, h);
        }
        capture.Passes.Add(new CapturedPass(inputs, outputs));
        return result;
    }

    /// <summary>
    /// The same network as <see cref="forward"/>, evaluated on jets: the output's derivatives D_α with
    /// respect to the input coordinates for every α in <paramref name="set"/> (downward closed), in one
    /// forward pass (Taylor mode). <paramref name="x"/> need not require grad.
    /// </summary>
    public int AutoJetFromOrder => Training.DerivativeEngine.AutoJetFromOrder;

    public Jet ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set)
    {
        var h = EmbedJet(x, set);
        if (Fused(x) && StackedLayout.For(set) is { } layout)
            return ForwardStacked(h, layout, x.shape[0]).Jet;
        _capture?.Refuse("a jet pass off the fused stacked path");
        if (_encoderU is null)
        {
            foreach (var layer in _hidden) h = Dense(layer, h).Apply(_activationDerivatives);
            return Dense(_output, h);
        }
        var u = Dense(_encoderU, h).Apply(_activationDerivatives);
        var v = Dense(_encoderV!, h).Apply(_activationDerivatives);
        var vMinusU = v - u;
        foreach (var layer in _hidden)
        {
            var z = Dense(layer, h).Apply(_activationDerivatives);
            h = u + z * vMinusU; // (1 − z) ⊙ u + z ⊙ v
        }
        return Dense(_output, h);
    }

    bool Fused(Tensor x) => CanCarryOperators && FusedTanhJet.Supports(x);

    /// <summary>The fused jet path (and with it operator blocks) is written for tanh MLPs, plain and modified.</summary>
    public bool CanCarryOperators => _tanh;

    public bool CarriesOperators(Tensor x) => Fused(x);

    public (Jet Jet, Tensor Operator) ForwardJet(Tensor x, IReadOnlyList<MultiIndex> set, IReadOnlyList<(MultiIndex Alpha, double C)> op)
    {
        if (!Fused(x) || StackedLayout.For(set, op) is not { } layout)
            throw new InvalidOperationException("operator blocks need the fused jet path (tanh MLP, CPU, float32/float64, order ≤ 4)");
        var (jet, l) = ForwardStacked(EmbedJet(x, MultiIndex.Closure(set.Concat(op.Select(t => t.Alpha)))), layout, x.shape[0]);
        return (jet, l!);
    }

    /// <summary>
    /// The tanh MLP (plain or modified) on a jet (order ≤ 4) held as one K×N×w tensor: each layer is one matrix
    /// product over all K blocks and one fused activation node (<see cref="FusedTanhJet"/>), the modified MLP's
    /// gate one fused product node (<see cref="FusedJetProduct"/>) — what makes jets beat
    /// nested autograd on second-order residuals (make bench: pinn, derivatives).
    /// </summary>
    (Jet Jet, Tensor? Operator) ForwardStacked(Jet embedded, StackedLayout layout, long rows)
    {
        var h = layout.Stack(embedded, rows);
        var capture = _capture;
        Tensor[]? inputs = capture is null ? null : new Tensor[capture.Layers.Count], outputs = capture is null ? null : new Tensor[capture.Layers.Count];
        if (_encoderU is null)
            foreach (var layer in _hidden) h = Dense(layer, h);
        else
        {
            var u = Dense(_encoderU, h);
            var vMinusU = Dense(_encoderV!, h) - u; // linear: block by block
            foreach (var layer in _hidden) h = u + FusedJetProduct.Apply(Dense(layer, h), vMinusU, layout); // (1 − z) ⊙ u + z ⊙ v
        }
        var (w, b) = WeightAndBias(_output);
        var zo = Linear(h, w);
        if (capture is not null)
        {
            inputs![LayerIndex(_output)] = h;
            outputs![LayerIndex(_output)] = zo;
            capture.Passes.Add(new CapturedPass(inputs, outputs));
        }
        return layout.Unstack(zo, b);

        Tensor Dense(nn.Module<Tensor, Tensor> layer, Tensor x)
        {
            var (weight, bias) = WeightAndBias(layer);
            var z = Linear(x, weight);
            if (inputs is not null)
            {
                inputs[LayerIndex(layer)] = x;
                outputs![LayerIndex(layer)] = z;
            }
            return FusedTanhJet.Apply(z, bias ?? zeros(weight.shape[0], dtype: z.dtype, device: z.device), layout);
        }

        static Tensor Linear(Tensor stacked, Tensor weight) =>
            stacked.reshape(-1, stacked.shape[2]).matmul(weight.T).reshape(stacked.shape[0], stacked.shape[1], weight.shape[0]);
    }

    static (Tensor Weight, Tensor? Bias) WeightAndBias(nn.Module<Tensor, Tensor> layer) => layer switch
    {
        Linear l => (l.weight!, l.bias),
        FactorizedLinear f => (f.Weight, f.Bias),
        _ => throw new InvalidOperationException($"no jet rule for layer {layer.GetType().Name}"),
    };

    static Jet Dense(nn.Module<Tensor, Tensor> layer, Jet h)
    {
        var (weight, bias) = WeightAndBias(layer);
        return h.Linear(weight, bias);
    }

    /// <summary><see cref="Embed"/> on jets: coordinate j's embedding has nonzero derivatives only along j.</summary>
    Jet EmbedJet(Tensor x, IReadOnlyList<MultiIndex> set)
    {
        var cols = new List<Jet>();
        for (int j = 0; j < _axes.Length; j++)
        {
            var e = _axes[j];
            var xj = x[TensorIndex.Colon, TensorIndex.Slice(j, j + 1)];
            var ej = MultiIndex.Of([j]);
            if (e.Harmonics == 0)
            {
                var d = new Dictionary<MultiIndex, Tensor> { [MultiIndex.Zero] = (xj - e.Center) / e.HalfWidth };
                if (set.Contains(ej)) d[ej] = full(1, 1, 1.0 / e.HalfWidth, dtype: x.dtype, device: x.device);
                cols.Add(new Jet(set, d));
                continue;
            }
            var k = (arange(1, e.Harmonics + 1, dtype: x.dtype, device: x.device) * e.Omega).unsqueeze(0);
            var kx = new Dictionary<MultiIndex, Tensor> { [MultiIndex.Zero] = xj * k };
            if (set.Contains(ej)) kx[ej] = k;
            var phase = new Jet(set, kx);
            cols.Add(phase.Apply(Jet.CosDerivatives));
            cols.Add(phase.Apply(Jet.SinDerivatives));
        }
        var h = Jet.Concat(cols);
        if (_fourier is null) return h;
        var proj = h.Linear(tensor(_fourier, dtype: x.dtype, device: x.device).T, null);
        return Jet.Concat([proj.Apply(Jet.CosDerivatives), proj.Apply(Jet.SinDerivatives)]);
    }

    public string Describe() => $"{_describe}, {((IFieldModel)this).ParameterCount} parameters";
}

/// <summary>
/// One forward pass of a tanh network as <see cref="NeuralField.BeginCapture"/> records it: per dense layer (hidden layers,
/// the output layer, the modified MLP's two encoders) its input A and its output before the activation z, both K×N×w (stacked jet: z without the
/// bias, which enters the value block inside the activation) or N×w (plain forward, K = 1: z with the bias; ∂/∂z is the same).
/// </summary>
public sealed record CapturedPass(Tensor[] Inputs, Tensor[] PreActivations)
{
    /// <summary>Parameters the pass read through per-sample views (<see cref="SampledParameter"/>; PIG's Gaussians and head).</summary>
    public IReadOnlyList<SampledParameter> Sampled { get; init; } = [];
    /// <summary>The pass's sample count where it has no layers to read it from; −1: from the layers' blocks.</summary>
    public long Samples { get; init; } = -1;
}

/// <summary>
/// A parameter p as one pass read it: through <see cref="View"/> = p expanded to rows × p.shape (sample i of the pass, at
/// <see cref="Row0"/> + i, reads only View[i]), so the backward's gradient with respect to the view holds ∂r_i/∂p row by row —
/// the per-sample Jacobian columns of p from the same single backward, for any model that routes every use of p through it.
/// </summary>
public sealed record SampledParameter(Tensor Parameter, Tensor View, long Row0);

/// <summary>
/// A dense layer z = A·Wᵀ (+ b) as the per-sample Jacobian sees it: <see cref="Weight"/> is W itself (a parameter) for a
/// plain layer; for a weight-factorised one W = diag(exp(s))·V is a value and <see cref="Scale"/> s, <see cref="Direction"/> V
/// are the parameters (J(V) = exp(s) ∘ J(W), J(s) = Σ_in J(W) ∘ W).
/// </summary>
public sealed record CapturedLayer(Tensor Weight, Tensor? Bias, Tensor? Scale, Tensor? Direction);

/// <summary>The passes recorded while a capture runs (<see cref="IFieldModel.BeginCapture"/>); disposing it ends the capture.</summary>
public sealed class LayerCapture : IDisposable
{
    readonly Action<LayerCapture> _end;

    internal LayerCapture(Action<LayerCapture> end, IReadOnlyList<CapturedLayer> layers)
    {
        _end = end;
        Layers = layers;
    }

    /// <summary>The dense layers, in the order of <see cref="CapturedPass"/>'s arrays.</summary>
    public IReadOnlyList<CapturedLayer> Layers { get; }
    public List<CapturedPass> Passes { get; } = [];
    /// <summary>Why some pass could not be recorded (then the capture is no basis for a Jacobian), or null.</summary>
    public string? Refused { get; private set; }

    internal void Refuse(string why) => Refused ??= why;

    public void Dispose() => _end(this);
}

/// <summary>
/// Random weight factorisation (Wang, Wang &amp; Perdikaris 2022, "Random weight factorization
/// improves the training of continuous neural representations"): W = diag(exp(s))·V with
/// s ~ N(mean, std) and V = W_glorot / exp(s), so the initial function is the Glorot network's.
/// </summary>
public sealed class FactorizedLinear : nn.Module<Tensor, Tensor>
{
    public FactorizedLinear(int inputs, int outputs, double mean, double std, Generator generator) : base("factorized_linear")
    {
        using var scope = NewDisposeScope();
        var w = empty(outputs, inputs, dtype: ScalarType.Float64);
        Initialisation.GlorotUniform(w, generator);
        var s = normal(mean, std, [outputs], dtype: ScalarType.Float64, generator: generator);
        register_parameter("scale", new TorchParameter(s.clone().MoveToOuterDisposeScope()));
        register_parameter("direction", new TorchParameter((w / s.exp().unsqueeze(1)).MoveToOuterDisposeScope()));
        register_parameter("bias", new TorchParameter(zeros(outputs, dtype: ScalarType.Float64).MoveToOuterDisposeScope()));
    }

    // Looked up by name: Module.to(dtype) replaces registered parameters, so fields would go stale.
    public Tensor Weight => get_parameter("scale")!.exp().unsqueeze(1) * get_parameter("direction")!;
    public Tensor Bias => get_parameter("bias")!;
    public Tensor Scale => get_parameter("scale")!;
    public Tensor Direction => get_parameter("direction")!;

    public override Tensor forward(Tensor x) => nn.functional.linear(x, Weight, Bias);
}
