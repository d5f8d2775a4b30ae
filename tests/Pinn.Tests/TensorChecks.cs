using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests;

/// <summary>Parameter gradients and tensor comparisons, for tests that check two derivative paths agree.</summary>
static class TensorChecks
{
    /// <summary>
    /// ∂loss/∂p for every parameter, detached copies; a parameter the loss does not reach gets zeros
    /// (allow_unused: without it autograd.grad aborts natively, TORCHSHARP.md).
    /// </summary>
    public static Tensor[] Of(Tensor loss, IList<Tensor> parameters, bool retainGraph = false) =>
        autograd.grad([loss], parameters, retain_graph: retainGraph, allow_unused: true)
                .Select((g, i) => g is null || g.IsInvalid ? zeros_like(parameters[i]) : g.detach().clone()).ToArray();

    /// <summary>max |a − b| relative to max(1, max |b|): two float64 evaluations of the same quantity in different orders.</summary>
    public static double RelativeMaxDifference(Tensor a, Tensor b) =>
        (a - b).abs().max().ToDouble() / Math.Max(1, b.abs().max().ToDouble());
}
