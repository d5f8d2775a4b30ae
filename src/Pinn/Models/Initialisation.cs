using TorchSharp.Modules;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Models;

/// <summary>
/// Where a model's initial values come from: a generator the model is handed or builds from the run
/// seed, never libtorch's process-wide one, which runs and tests in parallel threads would reseed or
/// advance under each other. A fresh <c>Generator(seed)</c> starts where <c>manual_seed(seed)</c> leaves
/// the default generator (same Mersenne twister state, no cached normal sample), and the draws below
/// are the ones the global-generator code made, in the same order, so seeded runs keep their numbers.
/// Draw with <c>Tensor.uniform_/normal_</c>, <c>rand</c>, <c>randn</c> or <c>normal</c> and their
/// <c>generator:</c> argument: TorchSharp 0.107's <c>nn.init.uniform_/normal_</c> accept one and ignore it
/// (their native calls take none), and the other <c>nn.init</c> functions take none.
/// </summary>
public static class Initialisation
{
    /// <summary>A CPU generator for <paramref name="seed"/>; the bit pattern manual_seed(long) would use.</summary>
    public static Generator Generator(int seed) => new(unchecked((ulong)seed));

    /// <summary>
    /// Glorot uniform (Glorot &amp; Bengio 2010, eq. 16): U(−a, a), a = √3 · √(2 / (fan_in + fan_out)).
    /// TorchSharp 0.107's <c>nn.init.xavier_normal_</c> calls libtorch's xavier_uniform_, so uniform is
    /// what every run drew so far; the bound is computed as libtorch computes it, so the values are bit-identical.
    /// </summary>
    public static void GlorotUniform(Tensor weight, Generator generator)
    {
        long fanIn = weight.shape[1], fanOut = weight.shape[0];
        double std = Math.Sqrt(2.0 / (fanIn + fanOut));
        double a = Math.Sqrt(3.0) * std;
        weight.uniform_(-a, a, generator);
    }

    /// <summary>A dense layer with Glorot-uniform weights and zero bias, in float64 (models convert afterwards).</summary>
    public static Linear GlorotLinear(int inputs, int outputs, Generator generator)
    {
        using var scope = NewDisposeScope(); // the layer's setters take its parameters out of it
        var weight = empty(outputs, inputs, dtype: ScalarType.Float64);
        var bias = empty(outputs, dtype: ScalarType.Float64);
        // nn.Linear(inputs, outputs) used to draw its default initialisation (Kaiming-uniform weight,
        // uniform bias: one value per element) before the Glorot draw overwrote it. Drawing as many values
        // keeps the stream where it was; the values themselves are overwritten below.
        weight.uniform_(-1, 1, generator);
        bias.uniform_(-1, 1, generator);
        GlorotUniform(weight, generator);
        bias.zero_();
        return nn.Linear(new TorchParameter(weight), new TorchParameter(bias));
    }
}
