using System.Globalization;

namespace Pinn.Tests;

/// <summary>
/// Accuracy that a test pins after a short training run. The number moves between machines (libtorch's
/// MKL and ATen kernels, and our SIMD kernels, round differently on AMD/Intel, AVX2/AVX-512, 1/2 threads,
/// and training amplifies it), so each bound is set from the spread measured over those variants and over
/// seeds with <c>tests/spread/pinned.sh</c>, which reruns these tests with
/// <c>PINN_PINNED_SEED</c> / <c>PINN_THREADS</c> set and collects what <see cref="Below"/> records.
/// </summary>
static class Pinned
{
    /// <summary>The seed of pinned runs: 0 unless the spread script sweeps it.</summary>
    public static int Seed => Environment.GetEnvironmentVariable("PINN_PINNED_SEED") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 0;

    /// <summary>libtorch threads for training tests: 1 unless the spread script asks for more.</summary>
    public static int Threads => Environment.GetEnvironmentVariable("PINN_THREADS") is { } s ? int.Parse(s, CultureInfo.InvariantCulture) : 1;

    /// <summary>The overrides every pinned run takes: its seed and thread count.</summary>
    public static string[] Overrides => [$"training.seed={Seed}", $"training.threads={Threads}"];

    /// <summary>Asserts <paramref name="value"/> &lt; <paramref name="bound"/>, and appends it to $PINN_PINNED_LOG if set.</summary>
    public static void Below(string name, double value, double bound)
    {
        if (Environment.GetEnvironmentVariable("PINN_PINNED_LOG") is { Length: > 0 } log)
            lock (typeof(Pinned))
                File.AppendAllText(log, string.Create(CultureInfo.InvariantCulture, $"{name}\t{Seed}\t{Threads}\t{value:R}\t{bound:R}\n"));
        value.Should().BeLessThan(bound, $"{name} (seed {Seed}, {Threads} threads)");
    }
}
