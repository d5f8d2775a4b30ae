using Pinn.Models;
using TorchSharp;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Training.Optimizers;

/// <summary>
/// A least-squares objective L(x) = ‖r̃(x)‖² of one flat float64 parameter vector, as the Gauss–Newton optimisers see
/// it: the stacked scaled residuals r̃ (N) and their Jacobian J = ∂r̃/∂x (N × P). Same ownership rules as
/// <see cref="IObjective"/>: the returned tensors are new and belong to the caller's dispose scope.
/// </summary>
public interface IResidualObjective
{
    /// <summary>P, the number of parameters.</summary>
    long Count { get; }

    /// <summary>r̃(x) and, when <paramref name="jacobian"/>, J(x); x is neither modified nor kept.</summary>
    (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian);

    /// <summary>Puts x into the model (where the optimiser leaves it between evaluations).</summary>
    void Assign(Tensor x);
}

/// <summary>
/// The trainer's loss terms as residuals over the model's parameters (<see cref="LossTerm.ScaledResidualBlocks"/>), with
/// the exact Jacobian J = ∂r̃/∂x by one of two routes.
/// <para>
/// <b>Per-sample (fast)</b>, OPTIMIZERS.md §9, for tanh networks (<see cref="NeuralField"/>: plain or modified MLP, dense or
/// weight-factorised layers; bare or inside a <see cref="ConstrainedField"/>) on the jet engine: while the residuals are built, the network records each dense layer's
/// input A and output before the activation z for every pass (<see cref="NeuralField.BeginCapture"/>). Then one backward
/// of Σ r̃_b per residual block b (retained graph) gives z̄ = ∂Σr̃_b/∂z for every pass, and since row i of a block depends
/// on sample i of the passes alone, J_i(W) = Σ_passes Σ_k z̄[k,i,:] ⊗ A[k,i,:] and J_i(b) = Σ_passes z̄[0,i,:]. The
/// parameters' gradient from the same backward must equal the column sums (a guard against a path the capture missed).
/// </para>
/// <para>
/// <b>Per-sample views</b>, for PIG (<see cref="GaussianField.BeginCapture"/>): every trainable parameter p is read through a
/// view p expanded to samples × p.shape, so the same backward's gradient with respect to the view is J's columns of p, row
/// by row (<see cref="SampledParameter"/>); on jets and on autograd derivatives alike, with the same guard.
/// </para>
/// <para>
/// <b>Generic</b>, the fallback for everything else (PIG with a cut-off and other models, sine activations, autograd derivatives, the
/// unfused jet path (off the CPU, order above 4), a block whose row count is not its passes' sample count, a failed guard): one <c>autograd.grad</c> VJP per
/// row on one retained graph — exact for every model and engine, at the cost of N backward passes.
/// <see cref="FastJacobians"/>, <see cref="GenericJacobians"/> and <see cref="FallbackReason"/> say which was taken.
/// </para>
/// </summary>
public sealed class ResidualObjective : IResidualObjective
{
    readonly IReadOnlyList<TorchParameter> _parameters;
    readonly Func<IReadOnlyList<Tensor>> _blocks;
    readonly IFieldModel? _model;
    readonly Func<LayerCapture, IDisposable>? _captureMore;
    readonly ParameterObjective _flat;

    /// <param name="residuals">Builds the 1-D scaled residual vector r̃ from the current parameter values (generic Jacobian only).</param>
    public ResidualObjective(IReadOnlyList<TorchParameter> parameters, Func<Tensor> residuals) : this(parameters, () => [residuals()], null) { }

    /// <param name="blocks">Builds r̃ as consecutive blocks (<see cref="LossTerm.ScaledResidualBlocks"/>).</param>
    /// <param name="model">The model the parameters belong to: a tanh <see cref="NeuralField"/> gets the per-sample Jacobian; null: generic.</param>
    /// <param name="captureMore">Adds the other parameters' per-sample views to the model's capture while it runs (the trainable
    /// problem parameters: <see cref="ProblemParameters.Capture"/>).</param>
    public ResidualObjective(IReadOnlyList<TorchParameter> parameters, Func<IReadOnlyList<Tensor>> blocks, IFieldModel? model,
                             Func<LayerCapture, IDisposable>? captureMore = null)
    {
        _captureMore = captureMore;
        _flat = new ParameterObjective(parameters, () => Stack(blocks()).square().sum()); // checks float64, flattens and assigns
        _parameters = parameters;
        _blocks = blocks;
        _model = model;
    }

    public long Count => _flat.Count;

    /// <summary>How many Jacobians took the per-sample route, and how many the row-by-row one.</summary>
    public int FastJacobians { get; private set; }
    public int GenericJacobians { get; private set; }
    /// <summary>Why the last generic Jacobian was not formed per sample (null after a fast one).</summary>
    public string? FallbackReason { get; private set; }

    /// <summary>The current parameter values as a new flat vector (in the caller's dispose scope).</summary>
    public Tensor Flatten() => _flat.Flatten();

    public void Assign(Tensor x) => _flat.Assign(x);

    /// <summary>The scalar view, ‖r̃‖² and its gradient (for line searches and tests).</summary>
    public IObjective Scalar => _flat;

    static Tensor Stack(IReadOnlyList<Tensor> blocks) => blocks.Count == 1 ? blocks[0] : cat(blocks.ToList(), 0);

    /// <summary>Whether a tanh network's per-sample fast path can apply to this model (bare or under hard constraints) when jets are used.</summary>
    public static bool HasFastJacobian(IFieldModel model) => Network(model) is { CanCarryOperators: true };

    static NeuralField? Network(IFieldModel? model) => model switch
    {
        NeuralField n => n,
        ConstrainedField { Network: NeuralField n } => n,
        _ => null,
    };

    public (Tensor Residuals, Tensor? Jacobian) Evaluate(Tensor x, bool jacobian)
    {
        Assign(x);
        using var scope = NewDisposeScope();
        IReadOnlyList<Tensor> blocks;
        LayerCapture? capture = null;
        IDisposable? more = null;
        try
        {
            if (jacobian) capture = _model?.BeginCapture();
            if (capture is not null) more = _captureMore?.Invoke(capture);
            blocks = _blocks();
        }
        finally
        {
            more?.Dispose();
            capture?.Dispose(); // ends the recording; the recorded tensors stay in this scope
        }
        var r = Stack(blocks);
        if (r.ndim != 1) throw new InvalidOperationException($"scaled residuals must be a 1-D vector, got shape [{string.Join(", ", r.shape)}]");
        var values = r.detach().clone();
        if (!jacobian) return (values.MoveToOuterDisposeScope(), null);
        long n = r.shape[0];
        var rows = JacobianStorage(n, r.device);
        string? why = capture is null ? (_model is null ? "no model given" : $"no per-sample capture for {_model.Describe()} (a tanh network or PIG has one)") : PerSample(capture, blocks, rows);
        if (why is null)
        {
            FastJacobians++;
            FallbackReason = null;
            return (values.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope());
        }
        FallbackReason = why;
        GenericJacobians++;
        rows.zero_();
        if (r.requires_grad) DirectRows(r, rows, keepGraph: false);
        return (values.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope());
    }

    Tensor? _storage, _handed;

    /// <summary>How many times a Jacobian needed new storage (the others reused the last one's).</summary>
    public int JacobianAllocations { get; private set; }

    /// <summary>
    /// A zeroed N × P matrix for the next Jacobian: the last one's storage again when its holder has disposed it (LM, TR and
    /// ENGD dispose J before they linearise again), else a new one. A fresh 100 MiB block is mapped and faulted in page by
    /// page on every allocation — a third of the assembly time (make bench ARGS="--only lm") — where zeroing a reused one is
    /// a memset. The returned tensor is a new handle on the storage; the storage lives as long as any handle does.
    /// </summary>
    Tensor JacobianStorage(long n, Device device)
    {
        bool reusable = _storage is not null && _handed is { IsInvalid: true } && _storage.shape[0] == n
                        && _storage.device_type == device.type && _storage.device_index == device.index;
        if (!reusable)
        {
            _storage?.Dispose(); // our handle only: a holder still keeps its storage
            _storage = zeros(n, Count, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
            JacobianAllocations++;
        }
        else _storage!.zero_();
        return _handed = _storage.alias();
    }

    /// <summary>Blocks of at most this many rows that have no per-sample rows get theirs by one backward per row.</summary>
    public const int DirectRowLimit = 64;

    /// <summary>
    /// Row i of <paramref name="j"/> = ∂block_i/∂θ by one backward each: the generic Jacobian, and the short blocks of the
    /// per-sample one. <paramref name="keepGraph"/>: false frees the graph with the last row (nothing reads it after).
    /// </summary>
    void DirectRows(Tensor block, Tensor j, bool keepGraph = true)
    {
        var inputs = _parameters.Cast<Tensor>().ToList();
        long n = block.shape[0];
        for (long i = 0; i < n; i++)
        {
            using var rowScope = NewDisposeScope();
            var grads = autograd.grad([block[i]], inputs, retain_graph: keepGraph || i < n - 1, allow_unused: true);
            using var values = no_grad();
            long offset = 0;
            for (int k = 0; k < inputs.Count; k++)
            {
                long m = inputs[k].numel();
                if (grads[k] is { } g && !g.IsInvalid && g.numel() == m) j[i].narrow(0, offset, m).copy_(g.reshape(-1));
                offset += m;
            }
        }
    }

    /// <summary>Fills <paramref name="rows"/> per sample (OPTIMIZERS.md §9); null when done, else why not (rows then partly written).</summary>
    string? PerSample(LayerCapture capture, IReadOnlyList<Tensor> blocks, Tensor rows)
    {
        if (capture.Refused is { } refused) return refused;
        // Where each layer's weight and bias sit in the flat parameter vector; every parameter must be one of them.
        var offsets = new long[_parameters.Count];
        long total = 0;
        for (int k = 0; k < _parameters.Count; k++) { offsets[k] = total; total += _parameters[k].numel(); }
        int IndexOf(Tensor t)
        {
            for (int k = 0; k < _parameters.Count; k++)
                if (ReferenceEquals(_parameters[k], t) || _parameters[k].Handle == t.Handle) return k;
            return -1;
        }
        var covered = new bool[_parameters.Count];
        // Per layer: the parameter index and flat offset of W (plain) or of s and V (factorised), and of b; −1 where absent.
        var layers = new List<(int Iw, int Is, int Iv, int Ib, long Out, long In, CapturedLayer Layer)>();
        foreach (var layer in capture.Layers)
        {
            bool factorised = layer.Direction is not null;
            int iw = factorised ? -1 : IndexOf(layer.Weight), ib = layer.Bias is null ? -1 : IndexOf(layer.Bias);
            int iS = factorised ? IndexOf(layer.Scale!) : -1, iv = factorised ? IndexOf(layer.Direction!) : -1;
            if ((factorised ? iS < 0 || iv < 0 : iw < 0) || (layer.Bias is not null && ib < 0))
                return "a layer's weight or bias is not among the trainable parameters";
            foreach (var k in new[] { iw, iS, iv, ib }) if (k >= 0) covered[k] = true;
            layers.Add((iw, iS, iv, ib, layer.Weight.shape[0], layer.Weight.shape[1], layer));
        }
        // Parameters read through per-sample views (PIG): their gradients with respect to the views are their J columns.
        var views = capture.Passes.SelectMany(p => p.Sampled.Select(v => (Pass: p, View: v, Index: IndexOf(v.Parameter)))).ToList();
        if (views.Any(v => v.Index < 0)) return "a per-sample view of a tensor that is not among the trainable parameters";
        foreach (var v in views) covered[v.Index] = true;
        if (covered.Contains(false)) return "a trainable parameter outside the captured layers and views";
        var zs = capture.Passes.SelectMany(p => p.PreActivations).ToList();
        // autograd.grad aborts the process (not catchable) on an input without a graph: check first.
        if (zs.Any(z => !z.requires_grad) || views.Any(v => !v.View.View.requires_grad) || _parameters.Any(q => !q.requires_grad))
            return "a captured pass or a parameter without a graph";
        var inputs = zs.Concat(views.Select(v => v.View.View)).Concat(_parameters.Cast<Tensor>()).ToList();
        int perPass = layers.Count; // every layer pass records all layers; view-only passes (PIG, problem parameters) none
        long row0 = 0;
        double worst = 0, scale = 0;
        var sums = new Tensor?[_parameters.Count];
        void Add(int k, Tensor t) => sums[k] = sums[k] is { } s ? s + t : t;
        foreach (var block in blocks)
        {
            long nb = block.shape[0];
            if (block.ndim != 1) return "a residual block that is not a vector";
            if (!block.requires_grad) { row0 += nb; continue; } // does not depend on the parameters: zero rows
            using var blockScope = NewDisposeScope();
            var grads = autograd.grad([block.sum()], inputs, retain_graph: true, allow_unused: true);
            // The assembly is arithmetic on values: the captured inputs A carry the forward graph, and adding their outer
            // products into J in place made J (and JᵀJ, Jᵀr̃ after it) graph nodes whose CopySlices backward holds J itself — a
            // reference cycle that no Dispose breaks: LM kept every Jacobian and Gram matrix it formed (~85 MB per Burgers step).
            var j = rows.narrow(0, row0, nb);
            string? mismatch = FillBlock(grads, j, nb);
            if (mismatch is not null)
            {
                // A short block over several samples (an integral constraint: one row, many quadrature nodes) has no per-sample
                // rows; its few rows come straight from autograd, one backward each, and the other blocks stay per sample.
                if (nb > DirectRowLimit) return mismatch;
                using (no_grad()) j.zero_();
                DirectRows(block, j);
                for (int k = 0; k < _parameters.Count; k++) sums[k] = null;
                row0 += nb;
                continue;
            }
            using var values = no_grad();
            // Guard: Σ_i J_i must be the parameters' gradient of Σ r̃_b from the same backward (checked after the last block).
            for (int k = 0; k < _parameters.Count; k++)
            {
                var g = grads[zs.Count + views.Count + k];
                bool defined = g is not null && !g.IsInvalid;
                if (defined) scale = Math.Max(scale, g!.abs().max().ToDouble());
                if (sums[k] is { } sum) worst = Math.Max(worst, (defined ? sum - g!.reshape(sum.shape) : sum).abs().max().ToDouble());
                else if (defined) worst = Math.Max(worst, g!.abs().max().ToDouble());
                sums[k] = null;
            }
            row0 += nb;
        }
        // Adds block rows from the captured passes and views into j; a mismatch between the block's rows and a pass it reads
        // (or a malformed capture) is returned as the reason, with j partly written.
        string? FillBlock(IList<Tensor> grads, Tensor j, long nb)
        {
            using var values = no_grad();
            int zi = 0; // index of the pass's first pre-activation in zs
            foreach (var pass in capture.Passes)
            {
                int recorded = pass.PreActivations.Length;
                if (recorded != 0 && recorded != perPass) return "a captured pass that recorded only some of the layers";
                for (int l = 0; l < recorded; l++)
                {
                    var g = grads[zi + l];
                    if (g is null || g.IsInvalid) continue; // this block does not read the pass
                    var zbar = g.ndim == 2 ? g.unsqueeze(0) : g; // K × N × out
                    var a = pass.Inputs[l];
                    a = a.ndim == 2 ? a.unsqueeze(0) : a; // K × N × in
                    if (zbar.ndim != 3 || a.ndim != 3 || !zbar.shape.Take(2).SequenceEqual(a.shape.Take(2)))
                        return "a captured layer whose input and output blocks differ in shape";
                    if (zbar.shape[1] != nb)
                    {
                        if (zbar.abs().max().ToDouble() == 0) continue;
                        return $"a residual block of {nb} rows reads a pass of {zbar.shape[1]} samples (several components per point?)";
                    }
                    var (iw, iS, iv, ib, o, i, layer) = layers[l];
                    var outer = zbar.permute(1, 2, 0).bmm(a.permute(1, 0, 2)); // N × out × in: J_n(W) = Σ_k z̄[k,n,:] ⊗ A[k,n,:]
                    var summed = zbar.reshape(-1, o).t().mm(a.reshape(-1, i)); // Σ_n J_n(W), for the guard below
                    if (iw >= 0)
                    {
                        j.narrow(1, offsets[iw], o * i).add_(outer.reshape(nb, o * i));
                        Add(iw, summed);
                    }
                    else
                    {
                        var w = layer.Weight; // W = diag(exp(s))·V: J(V) = exp(s) ∘ J(W), J(s) = Σ_in J(W) ∘ W
                        var e = layer.Scale!.detach().exp().unsqueeze(1);
                        j.narrow(1, offsets[iv], o * i).add_((outer * e).reshape(nb, o * i));
                        j.narrow(1, offsets[iS], o).add_((outer * w).sum(dim: 2));
                        Add(iv, summed * e);
                        Add(iS, (summed * w).sum(dim: 1));
                    }
                    if (ib < 0) continue;
                    var bias = zbar[0];
                    j.narrow(1, offsets[ib], o).add_(bias);
                    Add(ib, bias.sum(dim: 0));
                }
                zi += recorded;
            }
            for (int v = 0; v < views.Count; v++)
            {
                var g = grads[zs.Count + v];
                if (g is null || g.IsInvalid) continue; // this block does not read the pass
                var (pass, view, k) = views[v];
                if (pass.Samples != nb)
                {
                    if (g.abs().max().ToDouble() == 0) continue;
                    return $"a residual block of {nb} rows reads a pass of {pass.Samples} samples (several components per point?)";
                }
                long rowsOfView = g.shape[0], m = _parameters[k].numel();
                j.narrow(0, view.Row0, rowsOfView).narrow(1, offsets[k], m).add_(g.reshape(rowsOfView, m));
                Add(k, g.sum(dim: 0));
            }
            return null;
        }
        // Against the scale of all blocks' gradients: a block can be pure rounding (u(lo) − u(hi) under a periodic embedding).
        if (worst > 1e-9 * scale)
            return $"the per-sample rows do not add up to the blocks' gradients (off by {worst:G3}: a parameter path the capture missed)";
        return null;
    }
}
