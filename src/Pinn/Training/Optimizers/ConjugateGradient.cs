using TorchSharp;
using static TorchSharp.torch;

namespace Pinn.Training.Optimizers;

/// <summary>M⁻¹ r for a symmetric positive definite M ≈ A: the seam through which a solver supplies its preconditioner.</summary>
public interface IPreconditioner
{
    /// <summary>M⁻¹ r, a new tensor in the caller's dispose scope.</summary>
    Tensor Apply(Tensor r);
}

/// <summary>Settings of <see cref="ConjugateGradient"/>.</summary>
public sealed record CgOptions
{
    /// <summary>Stop when ‖b − A x‖ ≤ Tolerance · ‖b‖ (the true, unpreconditioned residual norm).</summary>
    public double Tolerance { get; init; } = 1e-10;
    /// <summary>At most this many iterations (one A-product and one preconditioner application each).</summary>
    public int MaxIterations { get; init; } = 1000;

    public void Validate()
    {
        if (!(Tolerance > 0) || !(Tolerance < 1)) throw new PinnException($"CG tolerance must be in (0, 1) (got {Tolerance})");
        if (MaxIterations < 1) throw new PinnException($"CG max iterations must be at least 1 (got {MaxIterations})");
    }
}

/// <summary>What one solve did: the iterate, its iteration count and relative residual ‖b − Ax‖/‖b‖.</summary>
public sealed record CgResult(Tensor X, int Iterations, double RelativeResidual, bool Converged);

/// <summary>
/// Preconditioned conjugate gradients (Hestenes–Stiefel 1952; Saad, "Iterative Methods for Sparse Linear Systems", Alg. 9.1)
/// for A x = b with A symmetric positive definite, seen only through products. For Gauss–Newton,
/// <see cref="SolveGaussNewton"/> solves (JᵀJ + μI) h = −Jᵀr̃ through <see cref="IGaussNewtonSystem"/> alone, so a
/// Kronecker-structured J never becomes a matrix. x, r and p live across iterations and are updated in place;
/// each iteration's temporaries are freed with its dispose scope.
/// </summary>
public static class ConjugateGradient
{
    /// <summary>
    /// A gen-0 collection every this many iterations. TorchSharp 0.107 never disposes the Scalar it makes for an implicit
    /// alpha (every <c>a + b</c>, <c>add_(v, alpha: α)</c>; dotnet/TorchSharp#1434, open): each is a small native allocation
    /// freed only by its finalizer, and between the iterations' large temporaries they fragment the heap — a 400² solve grew
    /// from 0.63 GB (1 iteration) to 4.2 GB (300) and 5.9 GB (3000), and the bench's 1000² solve was killed at 23 GB. The
    /// .NET GC, seeing only small managed objects, rarely runs on its own. With a collection every 16 iterations the 400² solve
    /// peaked at 0.71 GB (300 iterations) and 0.78 GB (3000), 3.5 % faster (DESIGN.md "Grid-value solve").
    /// </summary>
    const int CollectEvery = 16;

    /// <summary>h with (JᵀJ + μI) h = −Jᵀr̃, starting from h = 0.</summary>
    public static CgResult SolveGaussNewton(IGaussNewtonSystem system, double damping, IPreconditioner? preconditioner, CgOptions options)
    {
        if (!(damping >= 0) || !double.IsFinite(damping)) throw new PinnException($"CG damping μ must be ≥ 0 (got {damping})");
        using var scope = NewDisposeScope();
        var b = system.Gradient().neg();
        Func<Tensor, Tensor> apply = damping == 0 ? system.Apply : v => system.Apply(v).add_(v, alpha: damping);
        var result = Solve(apply, b, preconditioner, options);
        return result with { X = result.X.MoveToOuterDisposeScope() };
    }

    /// <summary>x with A x = b from x₀ = 0; <paramref name="apply"/> returns A v as a new tensor.</summary>
    public static CgResult Solve(Func<Tensor, Tensor> apply, Tensor b, IPreconditioner? preconditioner, CgOptions options)
    {
        options.Validate();
        var x = zeros_like(b);
        double bNorm = b.norm().ToDouble();
        if (bNorm == 0) return new CgResult(x, 0, 0, true);
        var r = b.clone();
        var p = (preconditioner?.Apply(r) ?? r.clone()).DetachFromDisposeScope();
        double rz = r.dot(p).ToDouble();
        double relative = 1;
        int k = 0;
        try
        {
            while (k < options.MaxIterations)
            {
                if (k % CollectEvery == CollectEvery - 1) GC.Collect(0, GCCollectionMode.Forced, blocking: false);
                using var iteration = NewDisposeScope();
                var ap = apply(p);
                double pap = p.dot(ap).ToDouble();
                if (!(pap > 0) || !double.IsFinite(pap))
                    throw new PinnException($"CG: pᵀAp = {pap:G3} at iteration {k + 1}: the operator is not positive definite (or not finite)");
                double alpha = rz / pap;
                x.add_(p, alpha: alpha);
                r.add_(ap, alpha: -alpha);
                k++;
                relative = r.norm().ToDouble() / bNorm;
                if (relative <= options.Tolerance) break;
                var z = preconditioner?.Apply(r) ?? r;
                double rzNext = r.dot(z).ToDouble();
                p.mul_(rzNext / rz).add_(z);
                rz = rzNext;
            }
        }
        finally
        {
            p.Dispose();
        }
        // The recursively updated r drifts from b − Ax by rounding: report the true residual (one more product).
        using (NewDisposeScope()) relative = (b - apply(x)).norm().ToDouble() / bNorm;
        return new CgResult(x, k, relative, relative <= options.Tolerance);
    }
}
