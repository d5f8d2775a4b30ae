using Pinn.Config;
using Pinn.Problems;
using Pinn.Training;

namespace Pinn.Tests.Models;

/// <summary>A short PIG training run pinned below a threshold, so a regression in the model, its jets or the parameter groups shows.</summary>
[Collection("training")] // one training run at a time: they share libtorch's process-wide thread pool
public class GaussianRegressionTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact, Trait("Category", "Pinned"), Trait("Duration", "Long")]
    public void Helmholtz_pig_short_run_pins_its_error()
    {
        // helmholtz2d.yaml shrunk to test size: 4×100 Gaussians, 600 Adam + 200 L-BFGS steps on 1024 points,
        // closed-form jets (~20 s on one thread). An untrained model scores ~1.0 and the paper's fully
        // trained PINN 4e-1, so 6e-2 still says the Gaussians resolved sin(4πy).
        var cfg = RunConfigLoader.Load(TestPaths.Problem("helmholtz2d/helmholtz2d.yaml"), ProblemCatalog.Instance,
        [
            $"output.dir={_dir}", "training.dtype=float64", "training.log_every=1000", "training.eval_every=0",
            "model.gaussians.count=100", "training.steps=600", "training.lbfgs_steps=200",
            "training.batch.pde=1024", "training.batch.bc=256", "evaluation.grid={x: 51, y: 51}", ..Pinned.Overrides,
        ]);
        var r = Runner.Run(cfg).Result;
        r.Status.Should().Be("completed");
        // float64, spread over native AMD EPYC / MKL Intel AVX-512 / AVX2-only arithmetic × 1, 2 threads and seeds 0–4 (tests/spread/pinned.sh, 2026-12-01): 1.06e-2 … 2.8e-2 (seed 2 came within 7% of the old 3e-2 bound); bound 2.2× the worst.
        Pinned.Below("helmholtz_pig", r.Error!.RelativeL2, 6e-2);
    }
}
