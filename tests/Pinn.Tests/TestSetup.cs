using System.Runtime.CompilerServices;

namespace Pinn.Tests;

static class TestSetup
{
    /// <summary>
    /// One libtorch thread per test process: xunit runs test classes in parallel, and OpenMP threads
    /// spinning against each other slow steps 8–15× (TORCHSHARP.md, pitfall 6). PINN_THREADS=2 runs the
    /// suite with two (tests/spread/pinned.sh does, to check that no verdict depends on the thread count).
    /// </summary>
    [ModuleInitializer]
    internal static void SingleThreadedTorch() => TorchSharp.torch.set_num_threads(Pinned.Threads);
}
