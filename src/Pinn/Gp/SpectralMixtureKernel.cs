using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Gp;

/// <summary>
/// A 1-D stationary spectral-mixture kernel (Fang et al. 2024, PAPERS.md §3):
/// <c>k(r) = Σ_q w_q · env_q(r) · cos(2π μ_q r)</c>, with a Gaussian envelope <c>exp(−ρ_q² r²)</c> ("gm")
/// or a Matérn-5/2 envelope <c>(1 + a|r| + a²r²/3)·exp(−a|r|)</c>, <c>a = √5 ρ_q</c> ("stm").
/// Trainable: log w_q (log space: the paper's Jeffreys-prior argument), log ρ_q and the frequencies μ_q.
/// Derivatives k^(a)(r) come in closed form up to order 2 (product rule on envelope × cosine);
/// higher orders of the smooth Gaussian envelope come from autograd.
/// </summary>
public sealed class SpectralMixtureKernel : IDisposable
{
    public SpectralMixtureKernel(string envelope, int components, double maxFrequency, ScalarType dtype, Device device)
    {
        if (envelope is not ("gm" or "stm"))
            throw new PinnException($"model.kernel: unknown kernel '{envelope}' (use gm — Gaussian envelope — or stm — Matérn-5/2 envelope)");
        if (components < 1) throw new PinnException($"model.components must be ≥ 1, got {components}");
        Envelope = envelope;
        // Frequencies evenly on [0, F]; each component's spectral width equals their spacing F/Q
        // (a Gaussian spectral density of standard deviation s gives exp(−2π²s² r²), so ρ = π√2·s),
        // so that together they cover the band [0, F] without holes; weights 1/Q, so k(0) = 1.
        double spacing = maxFrequency / Math.Max(1, components);
        double rho = Math.PI * Math.Sqrt(2) * spacing;
        var mu = Enumerable.Range(0, components).Select(q => components == 1 ? 0 : maxFrequency * q / (components - 1)).ToArray();
        LogWeight = new TorchParameter(full(components, Math.Log(1.0 / components), dtype: dtype, device: device));
        LogRho = new TorchParameter(full(components, Math.Log(rho), dtype: dtype, device: device));
        Frequency = new TorchParameter(tensor(mu, dtype: dtype, device: device));
    }

    public string Envelope { get; }
    public TorchParameter LogWeight { get; }
    public TorchParameter LogRho { get; }
    public TorchParameter Frequency { get; }
    public IReadOnlyList<TorchParameter> Parameters => [LogWeight, LogRho, Frequency];

    /// <summary>Highest derivative order available: the Matérn-5/2 process is twice differentiable.</summary>
    public int MaxOrder => Envelope == "stm" ? 2 : 4;

    /// <summary>k^(order)(r), elementwise, for any shape of <paramref name="r"/>.</summary>
    public Tensor Evaluate(Tensor r, int order = 0)
    {
        if (order > MaxOrder)
            throw new PinnException($"the {Envelope} kernel gives derivatives up to order {MaxOrder} per axis; order {order} was asked " +
                                    "(the Matérn-5/2 envelope is twice differentiable: use kernel: gm for higher orders)");
        if (order <= 2) return ClosedForm(r, order);
        // Order 3–4 (Gaussian envelope only): differentiate the order-2 closed form by autograd, keeping
        // the graph so the result still depends on the hyper-parameters.
        using var scope = NewDisposeScope();
        var rr = r.detach().requires_grad_(true);
        var g = ClosedForm(rr, 2);
        for (int k = 2; k < order; k++)
            g = autograd.grad([g.sum()], [rr], retain_graph: true, create_graph: true)[0];
        // The derivative still has rr as an input; re-evaluating at the caller's r is the same numbers.
        return g.MoveToOuterDisposeScope();
    }

    /// <summary>Closed forms: d^a/dr^a [env(r)·cos(ωr)], ω = 2πμ, summed over the components.</summary>
    Tensor ClosedForm(Tensor r, int order)
    {
        var x = r.unsqueeze(-1); // [..., 1] against [Q]
        var w = LogWeight.exp();
        var omega = 2 * Math.PI * Frequency;
        var phase = x * omega;
        var c = phase.cos();
        var (e0, e1, e2) = EnvelopeDerivatives(x, order);
        Tensor k = order switch
        {
            0 => e0 * c,
            1 => e1! * c - omega * e0 * phase.sin(),
            2 => e2! * c - 2 * omega * e1! * phase.sin() - omega.square() * e0 * c,
            _ => throw new ArgumentOutOfRangeException(nameof(order)),
        };
        return (w * k).sum(-1);
    }

    /// <summary>The envelope and its first two derivatives in r (unused ones are null).</summary>
    (Tensor e0, Tensor? e1, Tensor? e2) EnvelopeDerivatives(Tensor x, int order)
    {
        var rho = LogRho.exp();
        if (Envelope == "gm")
        {
            var rho2 = rho.square();
            var e0 = (-rho2 * x.square()).exp();
            var e1 = order >= 1 ? -2 * rho2 * x * e0 : null;
            var e2 = order >= 2 ? (4 * rho2.square() * x.square() - 2 * rho2) * e0 : null;
            return (e0, e1, e2);
        }
        // Matérn-5/2 in s = |r|, written so that every |r| kink is multiplied by r: autograd and the
        // values are then exact at r = 0 (k'(0) = 0, k''(0) = −a²/3).
        var a = Math.Sqrt(5) * rho;
        var s = x.abs();
        var ex = (-a * s).exp();
        var a2 = a.square();
        var m0 = (1 + a * s + a2 * x.square() / 3) * ex;
        var m1 = order >= 1 ? -(a2 / 3) * x * (1 + a * s) * ex : null;
        var m2 = order >= 2 ? -(a2 / 3) * (1 + a * s - a2 * x.square()) * ex : null;
        return (m0, m1, m2);
    }

    public void Dispose()
    {
        foreach (var p in Parameters) p.Dispose();
    }
}
