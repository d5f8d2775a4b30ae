using System.Diagnostics;
using Pinn.Geometry;
using Pinn.Models;
using Pinn.References;
using Pinn.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Problems;

/// <summary>
/// What one training step of PIG costs with the exact (naive, chunked) sum and with the cut-off sum:
/// forward pass, the problem's residuals (nested autograd, or closed-form jets), and the backward pass,
/// on a fixed batch. Used by <c>pinn reproduce pig</c> to report the cut-off speed-up against N.
/// </summary>
public static class PigCost
{
    /// <summary>Median ms per step: exact sum with nested autograd, exact sum with closed-form jets, cut-off sum with jets.</summary>
    public sealed record Timing(int Count, double Scale, int Points, double NaiveMs, double JetMs, double CutoffMs, double MaxDifference);

    public static Timing Measure(Problem problem, GaussianFieldOptions options, int points, int repeats, int seed = 0)
    {
        using var scope = NewDisposeScope();
        var pts = ExactSolutionProvider.ToTensor(problem.Domain.Sample(Region.Interior, points, new UniformSampler(seed))).to(ScalarType.Float32);
        var parameters = problem.ParameterValues.ToDictionary(kv => kv.Key, kv => tensor(kv.Value, dtype: ScalarType.Float32));
        var cutoff = options.Cutoff ?? GaussianField.DefaultTimingCutoff;
        using var naive = new GaussianField(options with { Cutoff = null }, problem.Domain.Axes, problem.Fields.Count, seed);
        using var cut = new GaussianField(options with { Cutoff = cutoff }, problem.Domain.Axes, problem.Fields.Count, seed);
        cut.load_state_dict(naive.state_dict()); // the head's initialisation draws from the global generator
        naive.to(ScalarType.Float32);
        cut.to(ScalarType.Float32);

        var jetSet = DerivativeEngine.JetSet("jet", naive, problem);
        (double ms, double loss) Time(GaussianField model, IReadOnlyList<Autodiff.MultiIndex>? jets)
        {
            double loss = 0;
            var times = new List<double>();
            for (int r = 0; r <= repeats; r++) // the first pass warms up and is not timed
            {
                using var step = NewDisposeScope();
                var clock = Stopwatch.StartNew();
                model.zero_grad();
                var x = pts.detach().requires_grad_(true);
                var ctx = new StepContext(model, problem.Domain.CoordinateNames, problem.Fields, n => parameters[n], jets);
                Tensor? total = null;
                foreach (var eq in problem.Equations)
                {
                    var l = ctx.At(x).Evaluate(eq.Equation.Residual).square().mean();
                    total = total is null ? l : total + l;
                }
                total!.backward();
                loss = total.item<float>();
                if (r > 0) times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            return (times[times.Count / 2], loss);
        }

        var (naiveMs, naiveLoss) = Time(naive, null);
        var (jetMs, _) = Time(naive, jetSet);
        var (cutMs, cutLoss) = Time(cut, jetSet);
        return new Timing(options.Count, options.InitScale, points, naiveMs, jetMs, cutMs, Math.Abs(cutLoss - naiveLoss) / Math.Max(1e-30, Math.Abs(naiveLoss)));
    }
}
