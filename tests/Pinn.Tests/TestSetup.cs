using System.Runtime.CompilerServices;

namespace Pinn.Tests;

static class TestSetup
{
    /// <summary>
    /// One libtorch thread per test process: xunit runs test classes in parallel, and OpenMP threads
    /// spinning against each other slow steps 8–15× (TORCHSHARP.md, pitfall 6).
    /// </summary>
    [ModuleInitializer]
    internal static void SingleThreadedTorch() => TorchSharp.torch.set_num_threads(1);
}
