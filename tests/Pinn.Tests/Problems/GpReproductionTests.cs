using Pinn.Problems;
using Pinn.Sweeps;

namespace Pinn.Tests.Problems;

/// <summary>`pinn reproduce gp`'s finite-difference appendix, before any run: one row per GP benchmark and grid.</summary>
public class GpReproductionTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Every_GP_benchmark_gets_a_finite_difference_row_on_its_own_grid()
    {
        var m = SweepManifest.Expand(SweepFile.Load(TestPaths.Problem("reproduce/gp.yaml"), null, _dir, "quick"), ProblemCatalog.Instance);
        m.Save();
        var md = GpReproduction.FiniteDifferenceTable(SweepReport.Collect(m.Directory), ProblemCatalog.Instance, new StringWriter());
        var rows = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| benchmark", StringComparison.Ordinal)).ToList();
        rows.Should().HaveCount(11, "eleven GP benchmarks, each once however many kernels it is run with");
        rows.Should().Contain(r => r.StartsWith("| Advection, sin(x − 200t) | 20×200 | — | n/a (", StringComparison.Ordinal), "no second-derivative part");
        // 400 nodes over 100 periods of sin(100x): 4 per period, where second differences cannot resolve the solution.
        var sin100 = rows.Single(r => r.StartsWith("| Poisson 1D, sin(100x) | 400 |", StringComparison.Ordinal));
        double.Parse(sin100.Split('|')[4].Trim(), System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(0.1);
    }
}
