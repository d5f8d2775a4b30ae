using System.Reflection;
using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Turns the config's device and dtype strings into TorchSharp values, with errors the user can act on.</summary>
public static class RunDevice
{
    /// <summary>
    /// The libtorch backend this build references, "cpu" or "cuda": the <c>TorchBackend</c> build property
    /// (<c>-p:TorchBackend=cuda</c>, src/Pinn/Pinn.csproj), stamped into the assembly's metadata.
    /// </summary>
    public static string BuildBackend { get; } =
        (typeof(RunDevice).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TorchBackend")?.Value
         ?? "cpu").ToLowerInvariant();

    /// <summary>Why <c>--device cuda</c> cannot be had, in one line, with what to do about it.</summary>
    public static string CudaUnavailableMessage => BuildBackend == "cuda"
        ? "--device cuda: CUDA is not available on this machine (this build has the CUDA libtorch, but no usable GPU is visible: " +
          "check the NVIDIA driver and CUDA_VISIBLE_DEVICES); use --device cpu or auto"
        : "--device cuda: CUDA is not available in this build (it ships the CPU libtorch; build with -p:TorchBackend=cuda " +
          "for the CUDA one); use --device cpu or auto";

    public static Device Resolve(string device) => device switch
    {
        "auto" => cuda.is_available() ? CUDA : CPU,
        "cpu" => CPU,
        "cuda" => cuda.is_available()
            ? CUDA
            : throw new PinnException(CudaUnavailableMessage) { Key = "training.device" },
        _ => throw new PinnException($"training.device: unknown device '{device}' (use auto, cpu or cuda)") { Key = "training.device" },
    };

    public static ScalarType ResolveDType(string dtype) => dtype switch
    {
        "float32" or "f32" => ScalarType.Float32,
        "float64" or "f64" => ScalarType.Float64,
        _ => throw new PinnException($"training.dtype: unknown dtype '{dtype}' (use float32 or float64)") { Key = "training.dtype" },
    };
}
