using Pinn.Models;
using Pinn.Problems;
using Xunit.Abstractions;
namespace Pinn.Tests.Scratch;
public class GaussianScratch(ITestOutputHelper output)
{
    [Fact]
    public void GaussianCostScratch()
    {
        var spec = Environment.GetEnvironmentVariable("PIG_COST") ?? "flow_mixing:250,1000:0.05:2048";
        var parts = spec.Split(':');
        var problem = ProblemCatalog.Instance.Create(parts[0])!;
        foreach (var n in parts[1].Split(',').Select(int.Parse))
        {
            var t = PigCost.Measure(problem, new GaussianFieldOptions { Count = n, InitScale = double.Parse(parts[2]) }, int.Parse(parts[3]), 3);
            output.WriteLine($"N={n} σ={t.Scale} P={t.Points}: naive {t.NaiveMs:F1} ms, jet {t.JetMs:F1} ms, cutoff+jet {t.CutoffMs:F1} ms, x{t.NaiveMs / t.CutoffMs:F2}, loss diff {t.MaxDifference:E2}");
        }
    }
}
