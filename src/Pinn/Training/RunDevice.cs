using static TorchSharp.torch;

namespace Pinn.Training;

/// <summary>Turns the config's device and dtype strings into TorchSharp values, with errors the user can act on.</summary>
public static class RunDevice
{
    public static Device Resolve(string device) => device switch
    {
        "auto" => cuda.is_available() ? CUDA : CPU,
        "cpu" => CPU,
        "cuda" => cuda.is_available()
            ? CUDA
            : throw new PinnException("--device cuda: CUDA is not available on this machine " +
                                      "(this build ships the CPU libtorch, or no GPU is visible); use --device cpu or auto") { Key = "training.device" },
        _ => throw new PinnException($"training.device: unknown device '{device}' (use auto, cpu or cuda)") { Key = "training.device" },
    };

    public static ScalarType ResolveDType(string dtype) => dtype switch
    {
        "float32" or "f32" => ScalarType.Float32,
        "float64" or "f64" => ScalarType.Float64,
        _ => throw new PinnException($"training.dtype: unknown dtype '{dtype}' (use float32 or float64)") { Key = "training.dtype" },
    };
}
