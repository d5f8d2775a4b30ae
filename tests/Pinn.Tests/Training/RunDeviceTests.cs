using Pinn.Training;

namespace Pinn.Tests.Training;

/// <summary>Device strings and the build's libtorch backend.</summary>
public class RunDeviceTests
{
    [Fact]
    public void The_build_backend_is_stamped_into_the_assembly()
    {
        // -p:TorchBackend=cpu|cuda (src/Pinn/Pinn.csproj); an unknown value fails the build, so nothing else can reach here.
        RunDevice.BuildBackend.Should().BeOneOf("cpu", "cuda");
    }

    [SkippableFact]
    public void Cuda_without_cuda_is_a_keyed_one_line_error_naming_the_way_out()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "CUDA is available here");
        var act = () => RunDevice.Resolve("cuda");
        var e = act.Should().Throw<PinnException>().Which;
        e.Key.Should().Be("training.device");
        e.Message.Should().NotContain("\n").And.Contain("use --device cpu or auto");
        if (RunDevice.BuildBackend == "cpu") e.Message.Should().Contain("-p:TorchBackend=cuda");
        RunDevice.Resolve("auto").Should().Be(TorchSharp.torch.CPU);
    }

    [Fact]
    public void An_unknown_device_names_the_choices() =>
        FluentActions.Invoking(() => RunDevice.Resolve("gpu")).Should().Throw<PinnException>()
                     .WithMessage("training.device: unknown device 'gpu' (use auto, cpu or cuda)");
}
