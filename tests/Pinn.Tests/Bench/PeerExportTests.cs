using Pinn.Bench;
using Pinn.Problems;
using Pinn.References;
using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Tests.Bench;

/// <summary>The PyTorch peer is given exactly our initial step, and computes the same loss from it.</summary>
public class PeerExportTests
{
    static FixedBatchPinnStep SmallStep(ScalarType dtype) => new(new Burgers1D(), [8, 8], dtype, interior: 64, initial: 16, boundary: 16);

    [Fact]
    public void Exported_parameters_points_and_input_map_round_trip_exactly()
    {
        using var step = SmallStep(ScalarType.Float32);
        string path = Path.Combine(Directory.CreateTempSubdirectory("pinn-export-").FullName, "step.npz");
        step.Export(path);
        var arrays = Npz.Read(path);

        var parameters = step.Model.TrainableParameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var a = arrays[$"p{i:D3}"];
            a.Shape.Should().Equal(parameters[i].shape.Select(s => (int)s));
            // float32 → float64 → float32 is exact, so equality (not closeness) is the contract.
            a.Data.Select(v => (float)v).Should().Equal(parameters[i].detach().data<float>().ToArray());
        }
        arrays.Keys.Count(k => k.StartsWith('p') && char.IsDigit(k[1])).Should().Be(parameters.Count);
        foreach (var (name, set) in step.PointSets)
            arrays["points_" + name].Data.Select(v => (float)v).Should().Equal(set.Points.detach().data<float>().ToArray());
        arrays["center"].Data.Should().Equal(0.0, 0.5);     // x ∈ [−1, 1], t ∈ [0, 1]
        arrays["half_width"].Data.Should().Equal(1.0, 0.5);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    [SkippableFact]
    public void Peer_script_computes_our_step_zero_loss_when_torch_is_available()
    {
        var found = PythonTorch.Find();
        Skip.IfNot(found.HasValue, "no python that imports torch here (make bench-peers installs one)");
        var python = found!.Value.Python;
        using var step = SmallStep(ScalarType.Float64);
        string dir = Directory.CreateTempSubdirectory("pinn-peer-").FullName;
        string path = Path.Combine(dir, "step.npz");
        step.Export(path);
        var peer = PyTorchPeerBenchmark.RunPeer(python, path, ScalarType.Float64, threads: 1, warmup: 1, repeats: 1);
        // Same float64 operations, summed in a different order by a different BLAS: a few ulps of the loss.
        Math.Abs(peer.Loss0 - step.CurrentLoss()).Should().BeLessThan(1e-12 * Math.Abs(peer.Loss0));
        Directory.Delete(dir, recursive: true);
    }

    [SkippableFact]
    public void Peer_reports_its_openblas_core_and_runs_the_forced_one()
    {
        var found = PythonTorch.Find();
        Skip.IfNot(found.HasValue, "no python that imports torch here (make bench-peers installs one)");
        var python = found!.Value.Python;
        var blas = PyTorchPeerBenchmark.ProbeBlas(python);
        blas.Should().NotBeNull("the peer script's --blas-info prints JSON");
        Skip.If(blas!.Core is null, "the peer's torch does not run OpenBLAS (install libopenblas0-openmp)");
        blas.Config.Should().Contain("OpenBLAS");
        PyTorchPeerBenchmark.ProbeBlas(python, coreType: "Prescott")!.Core.Should().Be("Prescott");

        using var step = SmallStep(ScalarType.Float64);
        string dir = Directory.CreateTempSubdirectory("pinn-peer-").FullName;
        string path = Path.Combine(dir, "step.npz");
        step.Export(path);
        PyTorchPeerBenchmark.RunPeer(python, path, ScalarType.Float64, threads: 1, warmup: 1, repeats: 1).BlasCore.Should().Be(blas.Core);
        PyTorchPeerBenchmark.RunPeer(python, path, ScalarType.Float64, threads: 1, warmup: 1, repeats: 1, coreType: "Core2")
            .BlasCore.Should().Be("Core2");
        Directory.Delete(dir, recursive: true);
    }
}
