using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using Pinn.Training.Optimizers;
using Pinn.Training.Phases;
using YamlDotNet.RepresentationModel;

namespace Pinn.Config;

/// <summary>
/// Reads a run config (a YAML file, or a built-in problem's name) into a <see cref="RunConfig"/>.
/// Layout:
/// <code>
/// problem: burgers                  # a built-in name, or {name: burgers, parameters: {nu: 0.005}},
///                                   # or an inline definition (see YamlProblem)
/// model:      {type: mlp, layers: [64, 64, 64, 64], activation: tanh}
/// training:   {steps: 5000, lr: 1e-3, decay_rate: 0.9, decay_steps: 1000, batch: {pde: 4096, ic: 256, bc: 256}, …}
/// evaluation: {grid: {x: 256, t: 101}}
/// output:     {dir: results, name: my-run}
/// </code>
/// </summary>
public static class RunConfigLoader
{
    /// <summary>
    /// Loads and reads a config; an error that names a config key but was raised without a location (see
    /// <see cref="ConfigLocation"/>) gets the file and line of that key.
    /// </summary>
    public static RunConfig Load(string configOrProblem, IProblemCatalog catalog, IEnumerable<string>? overrides = null)
    {
        try { return LoadUnlocated(configOrProblem, catalog, overrides); }
        catch (PinnException e) when (e.File is null && e.Key is not null)
        {
            throw ConfigLocation.Locate(e, ConfigLocation.ConfigFile(configOrProblem, catalog));
        }
    }

    static RunConfig LoadUnlocated(string configOrProblem, IProblemCatalog catalog, IEnumerable<string>? overrides)
    {
        YamlDoc doc;
        bool isFile = configOrProblem.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase)
                      || configOrProblem.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
                      || File.Exists(configOrProblem);
        if (isFile)
        {
            doc = YamlDoc.Load(configOrProblem);
        }
        else if (catalog.Create(configOrProblem) is not null)
        {
            var path = catalog.DefaultConfigPath(configOrProblem);
            doc = path is not null && File.Exists(path)
                ? YamlDoc.Load(path)
                : YamlDoc.Parse($"problem: {configOrProblem}\n", $"<{configOrProblem}>");
        }
        else
        {
            var hint = Symbolic.ExprParser.Suggest(configOrProblem, catalog.List().Select(p => p.Name));
            throw new PinnException($"'{configOrProblem}' is neither a config file nor a built-in problem" +
                                    (hint is null ? "" : $" (did you mean '{hint}'?)") +
                                    $"; built-in problems: {string.Join(", ", catalog.List().Select(p => p.Name))}");
        }
        foreach (var o in overrides ?? []) doc.Set(o);
        return Read(doc, catalog);
    }

    /// <summary>
    /// Reads a config. Every component reads its own section and rejects keys it does not know; what
    /// was left out is written back into <paramref name="doc"/> as the default used (see <see cref="Section"/>),
    /// so afterwards <c>doc</c> is the resolved config that <c>run.yaml</c> records.
    /// </summary>
    public static RunConfig Read(YamlDoc doc, IProblemCatalog catalog)
    {
        var root = doc.RootSection();
        var problemNode = root.Raw("problem") ?? throw doc.Error(null, "the config has no 'problem:' section");
        var problem = ReadProblem(doc, root, problemNode, catalog);
        var model = ReadModel(root.Ensure("model"), problem);
        var training = ReadTraining(root.Ensure("training"), model.Type);
        var evaluation = ReadEvaluation(root.Ensure("evaluation"), problem);
        var output = ReadOutput(root.Ensure("output"));
        root.Done();
        return new RunConfig(doc.File, problem, model, training, evaluation, output, doc);
    }

    static Problem ReadProblem(YamlDoc doc, Section root, YamlNode node, IProblemCatalog catalog)
    {
        if (node is YamlScalarNode s)
        {
            var builtIn = BuiltIn(doc, node, s.Value ?? "", catalog);
            Validate(doc, node, builtIn);
            root.Fill("problem", BuiltInNode(builtIn));
            return builtIn;
        }
        if (node is not YamlMappingNode m)
            throw doc.Error(node, "problem: expected a built-in problem name or a mapping");
        var sec = doc.Section("problem", m);
        Problem problem;
        if (sec.Node.Children.ContainsKey(new YamlScalarNode("equations")))
        {
            problem = YamlProblem.Read(sec);
            AbsoluteReferenceFile(doc, m);
            Validate(doc, node, problem);
            return problem;
        }
        var name = sec.String("name") ?? throw doc.Error(node, "problem: give a built-in 'name:' or define 'equations:'");
        problem = BuiltIn(doc, sec.Raw("name"), name, catalog);
        if (sec.SubSection("parameters") is { } ps)
        {
            foreach (var (k, v) in ps.Node.Children)
            {
                var key = ((YamlScalarNode)k).Value!;
                var declared = problem.Parameters.FirstOrDefault(q => q.Name == key);
                try { problem.SetParameter(declared is null ? new ProblemParameter(key, 0) : YamlProblem.ReadParameter(ps, key, v, declared)); }
                catch (PinnException e) when (e.File is null) { throw doc.Error(k, e.Message); }
            }
        }
        sec.Done();
        Validate(doc, node, problem);
        root.Fill("problem", BuiltInNode(problem));
        return problem;
    }

    static void Validate(YamlDoc doc, YamlNode node, Problem problem)
    {
        try { problem.Validate(); }
        catch (PinnException e) when (e.File is null) { throw doc.Error(node, e.Message); }
    }

    /// <summary>A built-in problem as resolved: its name and the value of every parameter used.</summary>
    static YamlMappingNode BuiltInNode(Problem p)
    {
        var node = new YamlMappingNode { { "name", p.Name } };
        if (p.ParameterNames.Count > 0)
        {
            var ps = new YamlMappingNode();
            foreach (var q in p.Parameters)
            {
                if (!q.Trainable && q.Truth is null) { ps.Add(q.Name, Section.Format(q.Value)); continue; }
                var spec = new YamlMappingNode { { "value", Section.Format(q.Value) }, { "trainable", q.Trainable ? "true" : "false" } };
                if (q.Lower is not null || q.Upper is not null)
                    spec.Add("bounds", new YamlSequenceNode(new YamlScalarNode(q.Lower is { } lo ? Section.Format(lo) : "null"),
                                                            new YamlScalarNode(q.Upper is { } hi ? Section.Format(hi) : "null")) { Style = YamlDotNet.Core.Events.SequenceStyle.Flow });
                if (q.Truth is { } t) spec.Add("truth", Section.Format(t));
                spec.Style = YamlDotNet.Core.Events.MappingStyle.Flow;
                ps.Add(q.Name, spec);
            }
            node.Add("parameters", ps);
        }
        return node;
    }

    /// <summary>
    /// A data-file reference is relative to its config: written back absolute, so a run directory's
    /// run.yaml loads from anywhere (pinn eval, pinn run --resume).
    /// </summary>
    static void AbsoluteReferenceFile(YamlDoc doc, YamlMappingNode problem)
    {
        if (problem.Children.TryGetValue(new YamlScalarNode("reference"), out var r) && r is YamlMappingNode rm
            && rm.Children.TryGetValue(new YamlScalarNode("file"), out var f) && f is YamlScalarNode { Value: { } file }
            && !Path.IsPathRooted(file))
        {
            var baseDir = doc.DirectoryOf(f);
            rm.Children[new YamlScalarNode("file")] = new YamlScalarNode(Path.GetFullPath(Path.Combine(baseDir, file)));
        }
    }

    static Problem BuiltIn(YamlDoc doc, YamlNode? at, string name, IProblemCatalog catalog) =>
        catalog.Create(name) ?? throw doc.Error(at,
            $"unknown problem '{name}'" +
            (Symbolic.ExprParser.Suggest(name, catalog.List().Select(p => p.Name)) is { } h ? $" (did you mean '{h}'?)" : "") +
            $"; built-in problems: {string.Join(", ", catalog.List().Select(p => p.Name))}");

    /// <summary>
    /// The keys each model type reads (its reader below reads exactly these: pinned by a test), so a key
    /// given to the wrong type is named as such instead of as a typo.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> ModelKeys = new Dictionary<string, IReadOnlyList<string>>
    {
        ["mlp"] = NeuralKeys,
        ["modified_mlp"] = NeuralKeys,
        ["pig"] = ["type", "gaussians", "hard_constraints"],
        ["gp"] = ["type", "grid", "max_frequency", "kernel", "components", "jitter", "boundary_weight", "solve_every", "solve_iterations", "solve_damping", "solve_tolerance", "solve_max_cg", "solve_preconditioner", "solve_backtracks", "solve_precision_scale", "values_from_solve"],
    };

    static string[] NeuralKeys => ["type", "layers", "activation", "normalize_inputs", "periodic", "fourier_features",
                                   "fourier_scale", "weight_factorization", "hard_constraints"];

    static ModelOptions ReadModel(Section s, Problem problem)
    {
        var d = new ModelOptions();
        var type = s.String("type", d.Type);
        var m = type switch
        {
            "mlp" or "modified_mlp" => ReadNeural(s, type),
            "pig" => new ModelOptions { Type = type, Gaussians = ReadGaussians(s.Ensure("gaussians"), s.Doc), HardConstraints = ReadHardConstraints(s) },
            "gp" => new ModelOptions { Type = type, Gp = ReadGp(s, problem) },
            _ => throw s.Doc.Error(s.Raw("type"), $"model.type: unknown model '{type}' (available: {string.Join(", ", ModelKeys.Keys)})"),
        };
        s.Done(ModelKeys.Where(k => k.Key != type).ToDictionary(), $"model type '{type}'");
        return m;
    }

    static ModelOptions ReadNeural(Section s, string type)
    {
        var d = new ModelOptions();
        var periodic = new Dictionary<string, PeriodicAxisOptions>();
        if (s.SubSection("periodic") is { } ps)
        {
            foreach (var k in ps.Node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList())
            {
                var axis = ps.SubSection(k) ?? throw s.Doc.Error(ps.Node, $"model.periodic.{k}: expected {{period: …, harmonics: …}}");
                periodic[k] = new PeriodicAxisOptions(axis.Has("period") ? axis.Double("period", 0) : null, axis.Int("harmonics", 10));
                axis.Done();
            }
            ps.Done();
        }
        (double, double)? rwf = null;
        if (s.SubSection("weight_factorization") is { } w)
        {
            rwf = (w.Double("mean", 1.0), w.Double("std", 0.1));
            w.Done();
        }
        return new ModelOptions
        {
            Type = type,
            Layers = s.IntList("layers", d.Layers),
            Activation = s.String("activation", d.Activation),
            NormalizeInputs = s.Bool("normalize_inputs", d.NormalizeInputs),
            Periodic = periodic,
            FourierFeatures = s.Int("fourier_features", d.FourierFeatures),
            FourierScale = s.Double("fourier_scale", d.FourierScale),
            WeightFactorization = rwf,
            HardConstraints = ReadHardConstraints(s),
        };
    }

    /// <summary><c>model.hard_constraints: {initial: true, dirichlet: true}</c>; both default to false (written into run.yaml).</summary>
    static HardConstraintOptions ReadHardConstraints(Section model)
    {
        if (model.Raw("hard_constraints") is { } raw and not YamlDotNet.RepresentationModel.YamlMappingNode)
            throw model.Doc.Error(raw, "model.hard_constraints: expected a mapping like {initial: true, dirichlet: true}");
        var s = model.Ensure("hard_constraints");
        var d = new HardConstraintOptions();
        var h = new HardConstraintOptions(s.Bool("initial", d.Initial), s.Bool("dirichlet", d.Dirichlet));
        s.Done();
        return h;
    }

    static TrainingOptions ReadTraining(Section s, string modelType)
    {
        bool gp = modelType == "gp";
        var d = gp ? TrainingOptions.GpDefaults : new TrainingOptions();
        if (gp) RejectBatchOptions(s);
        var t = new TrainingOptions
        {
            Steps = s.Int("steps", d.Steps),
            LearningRate = s.Double("lr", d.LearningRate),
            DecayRate = s.Double("decay_rate", d.DecayRate),
            DecaySteps = s.Int("decay_steps", d.DecaySteps),
            WarmupSteps = s.Int("warmup_steps", d.WarmupSteps),
            // The GP collocates on its grid: no batches, no time windows (RejectBatchOptions says so).
            Batch = gp ? d.Batch : s.IntMap("batch", d.Batch),
            Weights = s.DoubleMap("weights", d.Weights),
            Sampler = s.String("sampler", d.Sampler),
            ResampleEvery = s.Int("resample_every", d.ResampleEvery),
            LbfgsSteps = s.Int("lbfgs_steps", d.LbfgsSteps),
            LbfgsHistory = s.Int("lbfgs_history", d.LbfgsHistory),
            LogEvery = s.Int("log_every", d.LogEvery),
            EvalEvery = s.Int("eval_every", d.EvalEvery),
            CheckpointEvery = s.Int("checkpoint_every", d.CheckpointEvery),
            SnapshotEvery = s.Int("snapshot_every", d.SnapshotEvery),
            MaxRecoveries = s.Int("max_recoveries", d.MaxRecoveries),
            Causal = ReadCausal(s.SubSection("causal")),
            Balancing = ReadBalancing(s.SubSection("balancing")),
            TimeWindows = gp ? d.TimeWindows : s.Int("time_windows", d.TimeWindows),
            TimeLimit = s.Double("time_limit", d.TimeLimit),
            Derivatives = s.String("derivatives", d.Derivatives),
            Seed = s.Int("seed", d.Seed),
            DType = s.String("dtype", d.DType),
            Device = s.String("device", d.Device),
            Threads = s.Int("threads", d.Threads),
        };
        if (t.Steps < 0) throw s.Doc.Error(s.Raw("steps"), "training.steps must be ≥ 0");
        if (!(t.LearningRate > 0)) throw s.Doc.Error(s.Raw("lr"), "training.lr must be positive");
        if (t.Derivatives is not ("auto" or "autograd" or "jet"))
            throw s.Doc.Error(s.Raw("derivatives"), $"training.derivatives: unknown engine '{t.Derivatives}' (use auto, autograd or jet)");
        try { RunDevice.ResolveDType(t.DType); }
        catch (PinnException e) when (e.File is null) { throw s.Doc.Error(s.Raw("dtype"), e.Message); }
        try { if (!gp) Geometry.SamplerFactory.Create(t.Sampler, 0); }
        catch (PinnException e) when (e.File is null) { throw s.Doc.Error(s.Raw("sampler"), e.Message); }
        if (s.Raw("phases") is { } phases) t = t with { Phases = ReadPhases(s, phases, t) };
        s.Done();
        return t;
    }

    /// <summary>The keys each optimiser of <c>training.phases</c> reads (its reader below reads exactly these).</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> PhaseKeys = new Dictionary<string, IReadOnlyList<string>>
    {
        ["adam"] = ["steps", "lr", "decay_rate", "decay_steps", "warmup_steps"],
        ["lbfgs"] = ["steps", "history", "line_search"],
        ["bfgs"] = DenseKeys,
        ["ssbfgs"] = DenseKeys,
        ["ssbroyden"] = DenseKeys,
        ["lm"] = ["steps", "damping", "solve", "max_rejections", "step_tolerance", "geodesic", "geodesic_step", "acceleration_ratio",
                  "gradient_tolerance", "max_jacobian_mb", "resample"],
        ["engd"] = ["steps", "solve", "rcond", "damping", "line_search", "grid_points", "momentum", "gradient_tolerance", "max_jacobian_mb", "resample"],
        ["tr"] = ["steps", "radius", "min_radius", "max_radius", "probes", "window", "target_ratio", "late_target_ratio", "switch_after",
                  "sketch", "hashes", "gradient_tolerance", "max_jacobian_mb", "resample"],
    };

    static string[] DenseKeys => ["steps", "c1", "c2", "bracket_iterations", "max_parameters", "skip_tolerance", "initial_scaling", "gradient_tolerance", "resample"];

    /// <summary>
    /// <c>training.phases: [{adam: {steps: 2000, lr: 1e-3}}, {ssbroyden: {steps: 20000}}]</c> (a bare name is a phase with
    /// its defaults). Keys a phase leaves out default to the training-level keys of its kind (<see cref="TrainingOptions.AdamShorthand"/>,
    /// <see cref="TrainingOptions.LbfgsShorthand"/>) or to the options records, and are written back in.
    /// </summary>
    static IReadOnlyList<PhaseOptions> ReadPhases(Section s, YamlNode raw, TrainingOptions t)
    {
        var doc = s.Doc;
        const string example = "[{adam: {steps: 2000}}, {ssbroyden: {steps: 20000}}]";
        if (raw is not YamlSequenceNode seq || seq.Children.Count == 0)
            throw doc.Error(raw, $"training.phases: expected a list of optimiser phases, e.g. {example}");
        var phases = new List<PhaseOptions>();
        for (int i = 0; i < seq.Children.Count; i++)
        {
            string where = $"training.phases[{i}]";
            YamlNode nameNode;
            YamlMappingNode body;
            switch (seq.Children[i])
            {
                case YamlScalarNode { Value: { Length: > 0 } bare } sc:
                    nameNode = sc;
                    body = new YamlMappingNode();
                    seq.Children[i] = new YamlMappingNode { { bare, body } };
                    break;
                case YamlMappingNode m when m.Children.Count == 1:
                    var (key, value) = m.Children.First();
                    nameNode = key;
                    if (value is YamlMappingNode vm) body = vm;
                    else if (value is YamlScalarNode { Value: null or "" or "~" or "null" })
                    {
                        body = new YamlMappingNode();
                        m.Children[key] = body;
                    }
                    else throw doc.Error(value, $"{where}.{key}: expected the phase's options as a mapping, e.g. {{steps: 1000}}");
                    break;
                default:
                    throw doc.Error(seq.Children[i], $"{where}: expected one optimiser and its options, e.g. {{adam: {{steps: 2000}}}}");
            }
            var name = ((YamlScalarNode)nameNode).Value ?? "";
            if (!PhaseKeys.ContainsKey(name))
                throw doc.Error(nameNode, $"{where}: unknown optimiser '{name}'" +
                                          (Symbolic.ExprParser.Suggest(name, PhaseKeys.Keys) is { } h ? $" (did you mean '{h}'?)" : "") +
                                          $"; available: {string.Join(", ", PhaseKeys.Keys)}");
            var ps = doc.Section($"{where}.{name}", body);
            PhaseOptions phase = name switch
            {
                "adam" => ReadAdamPhase(ps, nameNode, t.AdamShorthand),
                "lbfgs" => ReadLbfgsPhase(ps, nameNode, t.LbfgsShorthand),
                "lm" => ReadLmPhase(ps, nameNode, t),
                "engd" => ReadEngdPhase(ps, nameNode, t),
                "tr" => ReadTrPhase(ps, nameNode, t),
                _ => ReadDensePhase(ps, nameNode, QuasiNewtonPhaseOptions.MethodOf(name)!.Value, t),
            };
            if (phase.Steps < 0) throw doc.Error(nameNode, $"{where}.{name}.steps must be ≥ 0");
            ps.Done(PhaseKeys.Where(k => k.Key != name).ToDictionary(), $"optimiser '{name}'");
            phases.Add(phase);
        }
        return phases;
    }

    // Errors point at the optimiser's name: a key that was left out has been filled in by now, and a filled node has no line.
    static AdamPhaseOptions ReadAdamPhase(Section s, YamlNode at, AdamPhaseOptions d)
    {
        var a = new AdamPhaseOptions
        {
            Steps = s.Int("steps", d.Steps),
            LearningRate = s.Double("lr", d.LearningRate),
            DecayRate = s.Double("decay_rate", d.DecayRate),
            DecaySteps = s.Int("decay_steps", d.DecaySteps),
            WarmupSteps = s.Int("warmup_steps", d.WarmupSteps),
        };
        if (!(a.LearningRate > 0)) throw s.Doc.Error(at, $"{s.Path}.lr must be positive");
        return a;
    }

    static LbfgsPhaseOptions ReadLbfgsPhase(Section s, YamlNode at, LbfgsPhaseOptions d)
    {
        var names = LbfgsPhaseOptions.LineSearchNames;
        var search = s.String("line_search", names.First(n => n.Value == d.LineSearch).Key);
        if (!names.TryGetValue(search, out var lineSearch))
            throw s.Doc.Error(at, $"{s.Path}.line_search: unknown line search '{search}' (use {string.Join(" or ", names.Keys)})");
        var l = d with { Steps = s.Int("steps", d.Steps), History = s.Int("history", d.History), LineSearch = lineSearch };
        if (l.History < 1) throw s.Doc.Error(at, $"{s.Path}.history must be at least 1");
        return l;
    }

    static QuasiNewtonPhaseOptions ReadDensePhase(Section s, YamlNode at, QuasiNewtonMethod method, TrainingOptions t)
    {
        var d = new QuasiNewtonPhaseOptions();
        var dq = d.QuasiNewton;
        var c2 = s.DoubleList("c2", dq.LineSearch.Attempts.Select(a => a.C2).ToArray());
        var bracket = s.IntList("bracket_iterations", dq.LineSearch.Attempts.Select(a => a.MaxIterations).ToArray());
        if (c2.Count != bracket.Count)
            throw s.Doc.Error(at, $"{s.Path}: c2 has {c2.Count} entries and bracket_iterations {bracket.Count}: " +
                                                           "give one bracketing limit per curvature constant (the attempts are tried in turn)");
        var q = new QuasiNewtonPhaseOptions
        {
            Steps = s.Int("steps", d.Steps),
            GradientTolerance = s.Double("gradient_tolerance", d.GradientTolerance),
            QuasiNewton = dq with
            {
                Method = method,
                LineSearch = dq.LineSearch with { C1 = s.Double("c1", dq.LineSearch.C1), Attempts = c2.Zip(bracket, (c, n) => new WolfeAttempt(c, n)).ToArray() },
                MaxParameters = s.Int("max_parameters", dq.MaxParameters),
                SkipTolerance = s.Double("skip_tolerance", dq.SkipTolerance),
                InitialScaling = s.Bool("initial_scaling", dq.InitialScaling),
            },
            Resample = s.SubSection("resample") is { } rs ? ReadResample(rs, at) : null,
        };
        try { q.QuasiNewton.Validate(); }
        catch (PinnException e) when (e.File is null) { throw s.Doc.Error(at, $"{s.Path}: {e.Message}"); }
        if (RunDevice.ResolveDType(t.DType) != TorchSharp.torch.ScalarType.Float64)
            throw s.Doc.Error(at, $"{s.Path}: the dense quasi-Newton phases (bfgs, ssbfgs, ssbroyden) work in float64 only, " +
                                  $"but training.dtype is {t.DType}; set training.dtype: float64 (--dtype float64)");
        return q;
    }

    static readonly IReadOnlyDictionary<string, LmSolve> LmSolveNames =
        new Dictionary<string, LmSolve> { ["auto"] = LmSolve.Auto, ["primal"] = LmSolve.Primal, ["dual"] = LmSolve.Dual };

    static LmPhaseOptions ReadLmPhase(Section s, YamlNode at, TrainingOptions t)
    {
        var d = new LmPhaseOptions();
        var solveName = s.String("solve", LmSolveNames.First(n => n.Value == d.Lm.Solve).Key);
        if (!LmSolveNames.TryGetValue(solveName, out var solve))
            throw s.Doc.Error(at, $"{s.Path}.solve: unknown solve '{solveName}' (use {string.Join(", ", LmSolveNames.Keys)})");
        var l = new LmPhaseOptions
        {
            Steps = s.Int("steps", d.Steps),
            GradientTolerance = s.Double("gradient_tolerance", d.GradientTolerance),
            MaxJacobianMb = s.Int("max_jacobian_mb", d.MaxJacobianMb),
            Lm = d.Lm with
            {
                InitialDamping = s.Double("damping", d.Lm.InitialDamping),
                Solve = solve,
                MaxRejections = s.Int("max_rejections", d.Lm.MaxRejections),
                StepTolerance = s.Double("step_tolerance", d.Lm.StepTolerance),
                Geodesic = s.Bool("geodesic", d.Lm.Geodesic),
                GeodesicStep = s.Double("geodesic_step", d.Lm.GeodesicStep),
                AccelerationRatio = s.Double("acceleration_ratio", d.Lm.AccelerationRatio),
            },
            Resample = s.SubSection("resample") is { } rs ? ReadResample(rs, at) : null,
        };
        try { l.Lm.Validate(); }
        catch (PinnException e) when (e.File is null) { throw s.Doc.Error(at, $"{s.Path}: {e.Message}"); }
        CheckResidualPhase(s, at, l, t, "Levenberg–Marquardt");
        return l;
    }

    static readonly IReadOnlyDictionary<string, EngdSolve> EngdSolveNames =
        new Dictionary<string, EngdSolve> { ["svd"] = EngdSolve.Svd, ["dual"] = EngdSolve.Dual };

    static EngdPhaseOptions ReadEngdPhase(Section s, YamlNode at, TrainingOptions t)
    {
        var d = new EngdPhaseOptions();
        var solveName = s.String("solve", EngdSolveNames.First(n => n.Value == d.Engd.Solve).Key);
        if (!EngdSolveNames.TryGetValue(solveName, out var solve))
            throw s.Doc.Error(at, $"{s.Path}.solve: unknown solve '{solveName}' (use {string.Join(" or ", EngdSolveNames.Keys)})");
        // The grid search is the one line search (Müller & Zeinhofer); the key is written out so run.yaml says which was used.
        if (s.String("line_search", "grid") is var search and not "grid")
            throw s.Doc.Error(at, $"{s.Path}.line_search: unknown line search '{search}' (use grid: η ∈ {{2^−k, k < grid_points}})");
        var e = new EngdPhaseOptions
        {
            Steps = s.Int("steps", d.Steps),
            GradientTolerance = s.Double("gradient_tolerance", d.GradientTolerance),
            MaxJacobianMb = s.Int("max_jacobian_mb", d.MaxJacobianMb),
            Engd = d.Engd with
            {
                Solve = solve,
                Rcond = s.DoubleList("rcond", d.Engd.Rcond),
                Damping = s.Double("damping", d.Engd.Damping),
                GridPoints = s.Int("grid_points", d.Engd.GridPoints),
                Momentum = s.Double("momentum", d.Engd.Momentum),
            },
            Resample = s.SubSection("resample") is { } rs ? ReadResample(rs, at) : null,
        };
        try { e.Engd.Validate(); }
        catch (PinnException x) when (x.File is null) { throw s.Doc.Error(at, $"{s.Path}: {x.Message}"); }
        CheckResidualPhase(s, at, e, t, "the natural gradient (engd)");
        return e;
    }

    static TrPhaseOptions ReadTrPhase(Section s, YamlNode at, TrainingOptions t)
    {
        var d = new TrPhaseOptions();
        var tr = new TrPhaseOptions
        {
            Steps = s.Int("steps", d.Steps),
            GradientTolerance = s.Double("gradient_tolerance", d.GradientTolerance),
            MaxJacobianMb = s.Int("max_jacobian_mb", d.MaxJacobianMb),
            Tr = d.Tr with
            {
                InitialRadius = s.Double("radius", d.Tr.InitialRadius),
                MinRadius = s.Double("min_radius", d.Tr.MinRadius),
                MaxRadius = s.Double("max_radius", d.Tr.MaxRadius),
                Probes = s.Int("probes", d.Tr.Probes),
                Window = s.Double("window", d.Tr.Window),
                TargetRatio = s.Double("target_ratio", d.Tr.TargetRatio),
                LateTargetRatio = s.Double("late_target_ratio", d.Tr.LateTargetRatio),
                SwitchAfter = s.Int("switch_after", d.Tr.SwitchAfter),
                SketchRows = s.Int("sketch", d.Tr.SketchRows),
                SketchHashes = s.Int("hashes", d.Tr.SketchHashes),
            },
            Resample = s.SubSection("resample") is { } rs ? ReadResample(rs, at) : null,
        };
        try { tr.Tr.Validate(); }
        catch (PinnException e) when (e.File is null) { throw s.Doc.Error(at, $"{s.Path}: {e.Message}"); }
        CheckResidualPhase(s, at, tr, t, "the trust-region Gauss–Newton method");
        return tr;
    }

    /// <summary>What the Gauss–Newton-type phases (lm, tr, engd) share: a Jacobian limit, a gradient tolerance, float64.</summary>
    static void CheckResidualPhase(Section s, YamlNode at, ResidualPhaseOptions p, TrainingOptions t, string method)
    {
        if (p.MaxJacobianMb < 1) throw s.Doc.Error(at, $"{s.Path}.max_jacobian_mb must be at least 1 (MiB of the N × P Jacobian)");
        if (!(p.GradientTolerance >= 0)) throw s.Doc.Error(at, $"{s.Path}.gradient_tolerance must be ≥ 0 (0: never stop on it)");
        if (RunDevice.ResolveDType(t.DType) != TorchSharp.torch.ScalarType.Float64)
            throw s.Doc.Error(at, $"{s.Path}: {method} works in float64 only, but training.dtype is {t.DType}; " +
                                  "set training.dtype: float64 (--dtype float64)");
    }

    /// <summary>
    /// <c>resample: {every: 500, pool: 100000, k: 1, c: 1}</c> of a dense phase (RAD cycles); absent: one fixed batch.
    /// Keys left out are written back with their defaults (<see cref="ResampleOptions"/>).
    /// </summary>
    static ResampleOptions ReadResample(Section s, YamlNode at)
    {
        var d = new ResampleOptions();
        var r = new ResampleOptions { Every = s.Int("every", d.Every), Pool = s.Int("pool", d.Pool), K = s.Double("k", d.K), C = s.Double("c", d.C) };
        s.Done();
        if (r.Every < 1) throw s.Doc.Error(s.Raw("every") ?? at, $"{s.Path}.every must be at least 1 (iterations per cycle)");
        if (r.Pool < 1) throw s.Doc.Error(s.Raw("pool") ?? at, $"{s.Path}.pool must be at least 1 (candidates per point set)");
        if (!(r.K >= 0) || !double.IsFinite(r.K)) throw s.Doc.Error(s.Raw("k") ?? at, $"{s.Path}.k must be a finite number ≥ 0 (the exponent on |r|)");
        if (!(r.C >= 0) || !double.IsFinite(r.C)) throw s.Doc.Error(s.Raw("c") ?? at, $"{s.Path}.c must be a finite number ≥ 0 (the uniform floor)");
        return r;
    }

    /// <summary>The GP collocates on every node of its grid: sampling options would silently do nothing.</summary>
    static void RejectBatchOptions(Section s)
    {
        if (s.Raw("batch") is { } b)
            throw s.Doc.Error(b, "training.batch: the GP solver uses every node of model.grid, not sampled batches; remove training.batch and size model.grid instead");
        if (s.Raw("sampler") is { } sm && s.String("sampler") != "grid")
            throw s.Doc.Error(sm, $"training.sampler: the GP solver collocates on a tensor grid (model.grid); sampler '{s.String("sampler")}' " +
                                  "does not apply (use sampler: grid or remove it)");
        if (s.Raw("dtype") is { } dt && RunDevice.ResolveDType(s.String("dtype")!) != TorchSharp.torch.ScalarType.Float64)
            throw s.Doc.Error(dt, "training.dtype: the GP solver needs float64 (its kernel matrices are too ill-conditioned for float32)");
        if (s.Raw("time_windows") is { } tw)
            throw s.Doc.Error(tw, "training.time_windows: time marching is for PINN/PIG models; the GP solves the whole space-time grid at once");
    }

    /// <summary>
    /// <c>model: {type: gp, grid: [400] | {x: 400} | 400, max_frequency: 20 | {x: 20}, kernel: gm|stm,
    /// components: 30, jitter: 1e-6, boundary_weight: 200}</c>.
    /// </summary>
    static Gp.GpOptions ReadGp(Section s, Problem problem)
    {
        var d = new Gp.GpOptions();
        var axes = problem.Domain.CoordinateNames;
        var grid = new Dictionary<string, int>();
        switch (s.Raw("grid"))
        {
            case null:
                throw s.Doc.Error(s.Node, $"model.grid: the GP solver needs a collocation grid, e.g. grid: {{{string.Join(", ", axes.Select(a => a + ": 200"))}}}");
            case YamlScalarNode:
                grid["*"] = s.Int("grid", 0);
                break;
            case YamlSequenceNode gs:
                var counts = s.IntList("grid")!;
                if (counts.Count != axes.Count)
                    throw s.Doc.Error(gs, $"model.grid: {counts.Count} counts for {axes.Count} coordinates ({string.Join(", ", axes)})");
                for (int j = 0; j < counts.Count; j++) grid[axes[j]] = counts[j];
                break;
            default:
                foreach (var (k, v) in IntMap(s.SubSection("grid"), new Dictionary<string, int>()))
                {
                    if (!axes.Contains(k)) throw s.Doc.Error(s.Raw("grid"), $"model.grid: '{k}' is not a coordinate ({string.Join(", ", axes)})");
                    grid[k] = v;
                }
                break;
        }
        foreach (var a in axes.Where(a => !grid.ContainsKey(a) && !grid.ContainsKey("*")))
            throw s.Doc.Error(s.Raw("grid"), $"model.grid: no point count for coordinate '{a}'");
        var freq = new Dictionary<string, double>();
        switch (s.Raw("max_frequency"))
        {
            case null:
                throw s.Doc.Error(s.Node, "model.max_frequency: the GP solver needs the highest initial frequency F (cycles per unit length, " +
                                          "above the solution's), e.g. max_frequency: 20 or {x: 20, y: 5}");
            case YamlScalarNode:
                freq["*"] = s.Double("max_frequency", 0);
                break;
            default:
                foreach (var (k, v) in DoubleMap(s.SubSection("max_frequency"), new Dictionary<string, double>()))
                {
                    if (!axes.Contains(k)) throw s.Doc.Error(s.Raw("max_frequency"), $"model.max_frequency: '{k}' is not a coordinate ({string.Join(", ", axes)})");
                    freq[k] = v;
                }
                break;
        }
        foreach (var a in axes.Where(a => !freq.ContainsKey(a) && !freq.ContainsKey("*")))
            throw s.Doc.Error(s.Raw("max_frequency"), $"model.max_frequency: no value for coordinate '{a}'");
        s.String("type");
        var o = new Gp.GpOptions
        {
            Grid = grid,
            MaxFrequency = freq,
            Kernel = s.String("kernel", d.Kernel),
            Components = s.Int("components", d.Components),
            Jitter = s.Double("jitter", d.Jitter),
            BoundaryWeight = s.Double("boundary_weight", d.BoundaryWeight),
            SolveEvery = s.Int("solve_every", d.SolveEvery),
            SolveIterations = s.Int("solve_iterations", d.SolveIterations),
            SolveDamping = s.Double("solve_damping", d.SolveDamping),
            SolveTolerance = s.Double("solve_tolerance", d.SolveTolerance),
            SolveMaxCg = s.Int("solve_max_cg", d.SolveMaxCg),
            SolvePreconditioner = s.String("solve_preconditioner", d.SolvePreconditioner),
            SolveBacktracks = s.Int("solve_backtracks", d.SolveBacktracks),
            SolvePrecisionScale = s.Double("solve_precision_scale", d.SolvePrecisionScale),
            ValuesFromSolve = s.Bool("values_from_solve", d.ValuesFromSolve),
        };
        if (o.Kernel is not ("gm" or "stm"))
            throw s.Doc.Error(s.Raw("kernel"), $"model.kernel: unknown kernel '{o.Kernel}' (use gm — Gaussian envelope — or stm — Matérn-5/2 envelope)");
        if (o.Components < 1) throw s.Doc.Error(s.Raw("components"), "model.components must be ≥ 1");
        if (!(o.Jitter > 0)) throw s.Doc.Error(s.Raw("jitter"), "model.jitter must be positive");
        foreach (var axis in problem.Domain.Axes)
            if (o.FrequencyProblem(axis) is { } bad) throw s.Doc.Error(s.Raw("max_frequency"), bad);
        if (o.SolveEvery < 0) throw s.Doc.Error(s.Raw("solve_every"), "model.solve_every must be ≥ 0 (0: off)");
        if (o.SolveIterations < 1) throw s.Doc.Error(s.Raw("solve_iterations"), "model.solve_iterations must be ≥ 1");
        if (!(o.SolveDamping >= 0) || !double.IsFinite(o.SolveDamping))
            throw s.Doc.Error(s.Raw("solve_damping"), "model.solve_damping must be a number ≥ 0 (μ added to the whitened Gauss–Newton matrix; 0: none)");
        if (!(o.SolveTolerance > 0 && o.SolveTolerance < 1))
            throw s.Doc.Error(s.Raw("solve_tolerance"), $"model.solve_tolerance must be in (0, 1) (CG's relative residual), got {o.SolveTolerance}");
        if (o.SolveMaxCg < 1) throw s.Doc.Error(s.Raw("solve_max_cg"), $"model.solve_max_cg must be ≥ 1 (CG iterations per Gauss–Newton step), got {o.SolveMaxCg}");
        if (!Gp.GpOptions.Preconditioners.Contains(o.SolvePreconditioner))
            throw s.Doc.Error(s.Raw("solve_preconditioner"), $"model.solve_preconditioner: unknown '{o.SolvePreconditioner}' (use {string.Join(", ", Gp.GpOptions.Preconditioners)})");
        if (o.ValuesFromSolve && o.SolveEvery == 0)
            throw s.Doc.Error(s.Raw("values_from_solve"), "model.values_from_solve needs model.solve_every > 0 (the solve is what sets the grid values)");
        if (!(o.SolvePrecisionScale >= 1) || double.IsInfinity(o.SolvePrecisionScale))
            throw s.Doc.Error(s.Raw("solve_precision_scale"), $"model.solve_precision_scale must be a finite number ≥ 1 (the solve's noise precisions are τ times it), got {o.SolvePrecisionScale}");
        if (o.SolveBacktracks < 0) throw s.Doc.Error(s.Raw("solve_backtracks"), $"model.solve_backtracks must be ≥ 0, got {o.SolveBacktracks}");
        return o;
    }

    static BalancingOptions ReadBalancing(Section? s)
    {
        var d = new BalancingOptions();
        if (s is null) return d;
        var b = new BalancingOptions { Kind = s.String("kind", "gradnorm"), Every = s.Int("every", d.Every), Alpha = s.Double("alpha", d.Alpha) };
        if (b.Kind is not ("none" or "gradnorm" or "precision"))
            throw s.Doc.Error(s.Raw("kind"), $"training.balancing.kind: unknown '{b.Kind}' (use none, gradnorm or precision)");
        s.Done();
        return b;
    }

    static CausalOptions ReadCausal(Section? s)
    {
        var d = new CausalOptions();
        if (s is null) return d;
        IReadOnlyList<double> eps = d.Epsilons;
        if (s.Has("epsilon")) eps = [s.Double("epsilon", 1)];
        if (s.Raw("epsilons") is YamlSequenceNode seq) eps = seq.Children.Select(c => s.ToDouble(c, "training.causal.epsilons")).ToArray();
        var c = new CausalOptions
        {
            Enabled = s.Bool("enabled", true),
            Chunks = s.Int("chunks", d.Chunks),
            Epsilons = eps,
            Delta = s.Double("delta", d.Delta),
            IncludeInitial = s.Bool("include_initial", d.IncludeInitial),
        };
        if (c.Chunks < 1) throw s.Doc.Error(s.Raw("chunks"), "training.causal.chunks must be ≥ 1");
        if (c.Epsilons.Count == 0 || c.Epsilons.Any(e => !(e >= 0))) throw s.Doc.Error(s.Node, "training.causal: ε values must be ≥ 0");
        s.Done();
        return c;
    }

    static EvaluationOptions ReadEvaluation(Section s, Problem problem)
    {
        var d = new EvaluationOptions();
        var grid = new Dictionary<string, int>();
        var raw = s.Raw("grid");
        if (raw is YamlSequenceNode)
        {
            var counts = s.IntList("grid")!;
            if (counts.Count != problem.Domain.Dim)
                throw s.Doc.Error(raw, $"evaluation.grid: {counts.Count} counts for {problem.Domain.Dim} coordinates ({string.Join(", ", problem.Domain.CoordinateNames)})");
            for (int j = 0; j < counts.Count; j++) grid[problem.Domain.CoordinateNames[j]] = counts[j];
        }
        else if (raw is YamlMappingNode)
        {
            foreach (var (k, v) in s.IntMap("grid", new Dictionary<string, int>()))
            {
                if (!problem.Domain.CoordinateNames.Contains(k))
                    throw s.Doc.Error(raw, $"evaluation.grid: '{k}' is not a coordinate ({string.Join(", ", problem.Domain.CoordinateNames)})");
                grid[k] = v;
            }
        }
        else if (raw is not null) throw s.Doc.Error(raw, "evaluation.grid: expected [n1, n2, …] or {x: n, t: m}");
        var e = new EvaluationOptions
        {
            Grid = grid,
            SpacePoints = s.Int("space_points", d.SpacePoints),
            TimePoints = s.Int("time_points", d.TimePoints),
        };
        s.Done();
        return e;
    }

    static OutputOptions ReadOutput(Section s)
    {
        var d = new OutputOptions();
        var o = new OutputOptions { Dir = s.String("dir", d.Dir), Name = s.String("name"), TensorBoard = s.Bool("tensorboard", d.TensorBoard) };
        s.Done();
        return o;
    }

    static IReadOnlyDictionary<string, int> IntMap(Section? s, IReadOnlyDictionary<string, int> defaults)
    {
        var r = new Dictionary<string, int>(defaults);
        if (s is null) return r;
        foreach (var k in s.Node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()) r[k] = s.Int(k, 0);
        return r;
    }

    static IReadOnlyDictionary<string, double> DoubleMap(Section? s, IReadOnlyDictionary<string, double> defaults)
    {
        var r = new Dictionary<string, double>(defaults);
        if (s is null) return r;
        foreach (var k in s.Node.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()) r[k] = s.Double(k, 0);
        return r;
    }

    /// <summary>model.gaussians (PIG); <c>cutoff: none</c> (or leaving it out) means the exact sum over all Gaussians.</summary>
    static GaussianFieldOptions ReadGaussians(Section s, YamlDoc doc)
    {
        var d = new GaussianFieldOptions();
        double? cutoff = d.Cutoff;
        if (s.Raw("cutoff") is { } raw)
            cutoff = s.Scalar(raw, "model.gaussians.cutoff") is "none" or "null" or "~" or "" ? null : s.ToDouble(raw, "model.gaussians.cutoff");
        else s.Fill("cutoff", new YamlScalarNode("none"));
        var g = new GaussianFieldOptions
        {
            Channels = s.Int("channels", d.Channels),
            Count = s.Int("count", d.Count),
            InitScale = s.Double("init_scale", d.InitScale),
            WeightInitStd = s.Double("weight_init_std", d.WeightInitStd),
            Covariance = s.String("covariance", d.Covariance),
            Head = s.IntList("head") ?? d.Head,
            HeadActivation = s.String("head_activation", d.HeadActivation),
            Cutoff = cutoff,
            CutoffQuantile = s.Double("cutoff_quantile", d.CutoffQuantile),
            ChunkSize = s.Int("chunk_size", d.ChunkSize),
            GaussianLrScale = s.Double("gaussian_lr_scale", d.GaussianLrScale),
            TrainMeans = s.Bool("train_means", d.TrainMeans),
            InitFrom = s.String("init_from"),
        };
        // A diagonal run to start from: written back absolute, so run.yaml reloads from any directory.
        if (g.InitFrom is { } from && !Path.IsPathRooted(from))
        {
            g = g with { InitFrom = Path.GetFullPath(from) };
            s.Fill("init_from", new YamlScalarNode(g.InitFrom));
        }
        s.Done();
        return g;
    }
}
