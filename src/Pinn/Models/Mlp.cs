using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// A fully connected network d → hidden… → m with tanh or sine activations and Glorot (Xavier)
/// normal initialisation, zero biases (Glorot &amp; Bengio 2010). Inputs are mapped affinely from the
/// domain box onto [−1, 1]ᵈ so the first layer sees well-scaled values whatever the units.
/// </summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, IFieldModel
{
    readonly ModuleList<Linear> _layers = new();
    readonly Func<Tensor, Tensor> _activation;
    readonly double[] _center, _halfWidth;
    readonly string _activationName;

    public Mlp(int inputDim, IReadOnlyList<int> hidden, int outputDim, string activation,
               double[] lower, double[] upper, bool normalizeInputs = true) : base("mlp")
    {
        if (hidden.Count == 0 || hidden.Any(h => h <= 0))
            throw new PinnException($"model.layers must list positive hidden widths, got [{string.Join(", ", hidden)}]");
        _activationName = activation;
        _activation = activation switch
        {
            "tanh" => t => t.tanh(),
            "sin" => t => t.sin(),
            _ => throw new PinnException($"model.activation: unknown activation '{activation}' (use tanh or sin)"),
        };
        InputDim = inputDim;
        OutputDim = outputDim;
        int prev = inputDim;
        foreach (var width in hidden.Append(outputDim))
        {
            var layer = nn.Linear(prev, width, dtype: ScalarType.Float64);
            nn.init.xavier_normal_(layer.weight);
            nn.init.zeros_(layer.bias);
            _layers.Add(layer);
            prev = width;
        }
        _center = lower.Zip(upper, (a, b) => normalizeInputs ? (a + b) / 2 : 0.0).ToArray();
        _halfWidth = lower.Zip(upper, (a, b) => normalizeInputs ? (b - a) / 2 : 1.0).ToArray();
        RegisterComponents();
        Hidden = hidden.ToArray();
    }

    public int InputDim { get; }
    public int OutputDim { get; }
    public IReadOnlyList<int> Hidden { get; }

    public IReadOnlyList<TorchParameter> TrainableParameters => parameters().ToList();

    public override Tensor forward(Tensor x)
    {
        // Built per call (d numbers) so they always match the input's dtype and device.
        var h = (x - tensor(_center, dtype: x.dtype, device: x.device)) / tensor(_halfWidth, dtype: x.dtype, device: x.device);
        for (int i = 0; i < _layers.Count - 1; i++) h = _activation(_layers[i].forward(h));
        return _layers[^1].forward(h);
    }

    public Tensor Forward(Tensor points) => forward(points);

    public string Describe() =>
        $"MLP {InputDim}→[{string.Join("×", Hidden)} {_activationName}]→{OutputDim}, {((IFieldModel)this).ParameterCount} parameters";
}
