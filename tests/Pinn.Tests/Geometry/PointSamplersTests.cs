using Pinn.Geometry;

namespace Pinn.Tests.Geometry;

public class PointSamplersTests
{
    static double[] Row(double[,] a, int i) => Enumerable.Range(0, a.GetLength(1)).Select(j => a[i, j]).ToArray();
    static double[] Col(double[,] a, int j) => Enumerable.Range(0, a.GetLength(0)).Select(i => a[i, j]).ToArray();

    static void ShouldBeInUnitCube(double[,] a)
    {
        foreach (var v in a) v.Should().BeGreaterThanOrEqualTo(0.0).And.BeLessThan(1.0);
    }

    /// <summary>True when the n values fall one in each of the n bins [k/n, (k+1)/n).</summary>
    static bool OnePerBin(double[] values)
    {
        int n = values.Length;
        var bins = values.Select(v => (int)Math.Floor(v * n)).OrderBy(b => b).ToArray();
        return bins.SequenceEqual(Enumerable.Range(0, n));
    }

    // ---------- uniform ----------

    [Fact]
    public void Uniform_gives_points_in_the_unit_cube_with_the_right_shape()
    {
        var a = new UniformSampler(1).Sample(1000, 3);

        a.GetLength(0).Should().Be(1000);
        a.GetLength(1).Should().Be(3);
        ShouldBeInUnitCube(a);
        for (int j = 0; j < 3; j++) Col(a, j).Average().Should().BeApproximately(0.5, 0.05);
    }

    [Fact]
    public void Uniform_is_deterministic_per_seed_and_fresh_per_call()
    {
        var a = new UniformSampler(7).Sample(50, 2);
        var b = new UniformSampler(7).Sample(50, 2);
        var c = new UniformSampler(8).Sample(50, 2);
        var s = new UniformSampler(7);
        s.Sample(50, 2);
        var next = s.Sample(50, 2);

        a.Should().BeEquivalentTo(b, o => o.WithStrictOrdering());
        Col(a, 0).Should().NotEqual(Col(c, 0));
        Col(a, 0).Should().NotEqual(Col(next, 0));
    }

    // ---------- latin hypercube ----------

    [Theory]
    [InlineData(1, 1)]
    [InlineData(10, 2)]
    [InlineData(97, 5)]
    public void Lhs_puts_exactly_one_point_in_every_bin_of_every_axis(int n, int dim)
    {
        var s = new LatinHypercubeSampler(3);
        for (int call = 0; call < 3; call++)
        {
            var a = s.Sample(n, dim);
            a.GetLength(0).Should().Be(n);
            a.GetLength(1).Should().Be(dim);
            ShouldBeInUnitCube(a);
            for (int j = 0; j < dim; j++) OnePerBin(Col(a, j)).Should().BeTrue($"axis {j} of call {call}");
        }
    }

    [Fact]
    public void Lhs_is_deterministic_per_seed_and_pairs_axes_randomly()
    {
        var a = new LatinHypercubeSampler(11).Sample(64, 2);
        var b = new LatinHypercubeSampler(11).Sample(64, 2);
        var c = new LatinHypercubeSampler(12).Sample(64, 2);
        var s = new LatinHypercubeSampler(11);
        s.Sample(64, 2);
        var next = s.Sample(64, 2);

        a.Should().BeEquivalentTo(b, o => o.WithStrictOrdering());
        Col(a, 0).Should().NotEqual(Col(c, 0));
        Col(a, 0).Should().NotEqual(Col(next, 0));
        // The bins of the two axes are not paired identically (a diagonal), nor sorted.
        var bins0 = Col(a, 0).Select(v => (int)(v * 64)).ToArray();
        var bins1 = Col(a, 1).Select(v => (int)(v * 64)).ToArray();
        bins0.Should().NotEqual(bins1);
        bins0.Should().NotBeInAscendingOrder();
    }

    // ---------- Sobol ----------

    [Fact]
    public void Sobol_2d_starts_with_the_known_points()
    {
        var a = new SobolSampler().Sample(7, 2);

        double[][] expected =
        [
            [0.5, 0.5], [0.75, 0.25], [0.25, 0.75], [0.375, 0.375],
            [0.875, 0.875], [0.625, 0.125], [0.125, 0.625],
        ];
        for (int i = 0; i < expected.Length; i++) Row(a, i).Should().Equal(expected[i], $"point {i + 1}");
    }

    [Fact]
    public void Sobol_third_dimension_matches_joe_kuo()
    {
        // Dimension 3: s = 2, a = 1, m = (1, 3).
        var a = new SobolSampler().Sample(7, 3);

        Col(a, 2).Should().Equal(0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375);
    }

    [Fact]
    public void Sobol_point_1000_matches_an_independent_computation_in_every_dimension()
    {
        // Point 1000 of the sequence (point 0 being the origin) times 1024, for dimensions 1..31, computed
        // independently from new-joe-kuo-6.21201 with the direct (non-Gray-code-recursive) formula
        // x = XOR of V_k over the bits k of gray(1000) = 1000 ^ 500.
        int[] expected =
        [
            225, 99, 531, 693, 287, 929, 47, 921, 513, 71, 87, 261, 165, 393, 147, 379,
            737, 353, 1015, 743, 535, 563, 973, 553, 597, 929, 41, 1003, 61, 349, 151,
        ];
        SobolSampler.MaxDimensions.Should().Be(expected.Length);

        var a = new SobolSampler(skipFirst: false).Sample(1001, expected.Length);

        Row(a, 1000).Select(v => v * 1024).Should().Equal(expected.Select(e => (double)e));
    }

    [Fact]
    public void Sobol_without_skipping_starts_at_the_origin()
    {
        var a = new SobolSampler(skipFirst: false).Sample(3, 4);

        Row(a, 0).Should().Equal(0, 0, 0, 0);
        Row(a, 1).Should().Equal(0.5, 0.5, 0.5, 0.5);
        Row(a, 2).Should().Equal(0.75, 0.25, 0.25, 0.25);
    }

    [Fact]
    public void Sobol_calls_continue_the_sequence()
    {
        var whole = new SobolSampler().Sample(20, 5);
        var s = new SobolSampler();
        var first = s.Sample(7, 5);
        var empty = s.Sample(0, 5);
        var second = s.Sample(13, 5);

        empty.GetLength(0).Should().Be(0);
        for (int i = 0; i < 7; i++) Row(first, i).Should().Equal(Row(whole, i));
        for (int i = 0; i < 13; i++) Row(second, i).Should().Equal(Row(whole, 7 + i));
    }

    [Fact]
    public void Sobol_each_1d_projection_of_the_first_2_pow_k_points_is_stratified_in_every_dimension()
    {
        int dim = SobolSampler.MaxDimensions;
        var a = new SobolSampler(skipFirst: false).Sample(1 << 10, dim);
        ShouldBeInUnitCube(a);
        for (int k = 0; k <= 10; k++)
            for (int j = 0; j < dim; j++)
                OnePerBin(Col(a, j).Take(1 << k).ToArray()).Should().BeTrue($"dimension {j + 1}, first 2^{k} points");

        // With the origin skipped, the block of points 2^k .. 2^(k+1)-1 is a net as well.
        var b = new SobolSampler().Sample((1 << 9) - 1 + (1 << 9), dim);
        for (int j = 0; j < dim; j++)
            OnePerBin(Col(b, j).Skip((1 << 9) - 1).ToArray()).Should().BeTrue($"dimension {j + 1}, points 512..1023");
    }

    [Fact]
    public void Sobol_first_two_dimensions_form_a_0_m_2_net()
    {
        // Every elementary box [a/2^p, (a+1)/2^p) x [b/2^q, (b+1)/2^q) with p + q = m holds exactly one of the
        // first 2^m points (including the origin).
        const int m = 8;
        var pts = new SobolSampler(skipFirst: false).Sample(1 << m, 2);
        for (int p = 0; p <= m; p++)
        {
            int q = m - p;
            var seen = new HashSet<(int, int)>();
            for (int i = 0; i < 1 << m; i++)
                seen.Add(((int)(pts[i, 0] * (1 << p)), (int)(pts[i, 1] * (1 << q)))).Should().BeTrue($"p={p}, q={q}");
        }
    }

    [Fact]
    public void Sobol_rejects_a_change_of_dimension_and_too_many_dimensions()
    {
        var s = new SobolSampler();
        s.Sample(4, 3);

        ((Action)(() => s.Sample(4, 2))).Should().Throw<PinnException>().WithMessage("*3 dimensions*2*");
        ((Action)(() => new SobolSampler().Sample(1, SobolSampler.MaxDimensions + 1)))
            .Should().Throw<PinnException>().WithMessage($"*at most {SobolSampler.MaxDimensions} dimensions*");
    }

    [Fact]
    public void Samplers_reject_bad_arguments()
    {
        foreach (var s in new IPointSampler[] { new UniformSampler(0), new LatinHypercubeSampler(0), new SobolSampler() })
        {
            ((Action)(() => s.Sample(-1, 2))).Should().Throw<PinnException>();
            ((Action)(() => s.Sample(3, 0))).Should().Throw<PinnException>();
        }
    }

    // ---------- factory ----------

    [Theory]
    [InlineData("uniform", typeof(UniformSampler))]
    [InlineData("sobol", typeof(SobolSampler))]
    [InlineData("lhs", typeof(LatinHypercubeSampler))]
    [InlineData("latin_hypercube", typeof(LatinHypercubeSampler))]
    [InlineData(" Sobol ", typeof(SobolSampler))]
    public void Factory_creates_the_named_sampler(string kind, Type type)
    {
        SamplerFactory.Create(kind, 5).Should().BeOfType(type);
    }

    [Fact]
    public void Factory_passes_the_seed()
    {
        SamplerFactory.Create("uniform", 9).Sample(5, 2)
            .Should().BeEquivalentTo(new UniformSampler(9).Sample(5, 2), o => o.WithStrictOrdering());
        SamplerFactory.Create("lhs", 9).Sample(5, 2)
            .Should().BeEquivalentTo(new LatinHypercubeSampler(9).Sample(5, 2), o => o.WithStrictOrdering());
    }

    [Fact]
    public void Factory_rejects_unknown_kinds_listing_the_valid_ones()
    {
        var act = () => SamplerFactory.Create("halton", 0);

        act.Should().Throw<PinnException>().WithMessage("*'halton'*uniform*sobol*lhs*latin_hypercube*");
    }
}
