using System.Text.Json;
using Pinn.Cli;
using Pinn.References;

namespace Pinn.Tests.Config;

/// <summary>
/// The bad-input contract of the CLI, one row per malformed input: exit code 2, exactly one line on stderr
/// naming the file, the line (where the input has one) and the offending key or symbol, no stack trace, and
/// no run folder left without a status in its metrics.json.
/// </summary>
public sealed class BadInputCorpusTests : IDisposable
{
    readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// One malformed input. <see cref="Setup"/> writes its files into the temp dir and returns the CLI arguments
    /// (given the temp dir and the results root); <see cref="Expect"/> are the fragments the error line must hold.
    /// </summary>
    public sealed record Case(string Name, Func<Scratch, string[]> Setup, params string[] Expect);

    /// <summary>The temp dir of one row, its results root, and helpers to write inputs there.</summary>
    public sealed class Scratch(string dir)
    {
        public string Dir { get; } = dir;
        public string Results { get; } = Path.Combine(dir, "results");

        public string Write(string name, string text)
        {
            var path = Path.Combine(Dir, name);
            File.WriteAllText(path, text);
            return path;
        }

        public string WriteBytes(string name, byte[] bytes)
        {
            var path = Path.Combine(Dir, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }

        /// <summary><c>pinn run bad.yaml</c> on a tiny budget (2 steps, 1 thread), or with no overrides when the row is about the training section itself.</summary>
        public string[] Run(string yaml, bool budget = true) =>
            budget
                ? ["run", Write("bad.yaml", yaml), "--out", Results, "--quiet", "--steps", "2", "--set", "training.threads=1"]
                : ["run", Write("bad.yaml", yaml), "--out", Results, "--quiet"];

        /// <summary>A finished 3-step poisson1d run with the given hidden layers; returns its directory.</summary>
        public string TrainedRun(string name, string layers)
        {
            var cfg = Write($"{name}.yaml", $"problem: poisson1d\nmodel: {{layers: {layers}}}\ntraining: {{steps: 3, threads: 1, batch: {{pde: 32, bc: 2}}}}\n" +
                                            "evaluation: {grid: {x: 11}}\n");
            var (code, _, stderr) = Pinn("run", cfg, "--out", Results, "--name", name, "--quiet");
            code.Should().Be(PinnCommand.Ok, stderr);
            return Path.Combine(Results, "poisson1d", name);
        }

        /// <summary>Edits a file of a run: replaces <paramref name="from"/> (which must occur) by <paramref name="to"/>.</summary>
        public static void Edit(string path, string from, string to)
        {
            var text = File.ReadAllText(path);
            text.Should().Contain(from);
            File.WriteAllText(path, text.Replace(from, to));
        }
    }

    // Line numbers in the rows below count from this text: equation on line 8, conditions on 10 and 11.
    const string Heat = TestInputs.InlineHeat + "\n";

    /// <summary>The heat problem with a reference file on line 12.</summary>
    static string HeatWithReference(string file, string extra = "") => Heat + $"  reference: {{file: {file}{extra}}}\n";

    /// <summary>A valid reference for <see cref="Heat"/> on a 5 × 3 (x, t) grid.</summary>
    static Dictionary<string, NdArray> HeatGrid(string field = "u", int nx = 5)
    {
        double[] x = [0, 0.25, 0.5, 0.75, 1], t = [0, 0.5, 1];
        var u = new double[nx * t.Length];
        for (int i = 0; i < nx; i++)
            for (int k = 0; k < t.Length; k++) u[i * t.Length + k] = Math.Exp(-0.1 * Math.PI * Math.PI * t[k]) * Math.Sin(Math.PI * x[i % 5]);
        return new() { ["x"] = new NdArray([5], x), ["t"] = new NdArray([3], t), [field] = new NdArray([nx, 3], u) };
    }

    static byte[] NpzBytes(Scratch s, Dictionary<string, NdArray> arrays)
    {
        var path = Path.Combine(s.Dir, "tmp.npz");
        Npz.Write(path, arrays);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    static byte[] NpyBytes(Scratch s, NdArray a)
    {
        var path = Path.Combine(s.Dir, "tmp.npy");
        Npy.Write(path, a);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>A valid n×3 (x, t, u) table for <see cref="Heat"/>.</summary>
    static NdArray HeatTable(int columns = 3) => new([4, columns], Enumerable.Range(0, 4 * columns).Select(i => 0.1 * i).ToArray());

    static IEnumerable<Case> All()
    {
        // ---- YAML syntax
        yield return new("yaml_bad_indent", s => s.Run("problem: poisson1d\ntraining:\n  steps: 2\n    lr: 3\n"),
                         "bad.yaml:4", "malformed YAML");
        yield return new("yaml_unclosed_flow_list", s => s.Run("problem: poisson1d\nmodel:\n  layers: [8, 8\n  activation: tanh\n"),
                         "bad.yaml:3", "malformed YAML", "'['");
        yield return new("yaml_tab_indent", s => s.Run("problem: poisson1d\nmodel:\n\tlayers: [8]\n"),
                         "bad.yaml:3", "malformed YAML", "tab");
        yield return new("yaml_duplicate_key", s => s.Run("problem: poisson1d\nmodel: {layers: [8]}\nmodel: {layers: [16]}\n"),
                         "bad.yaml:3", "malformed YAML", "model");
        yield return new("yaml_unclosed_quote", s => s.Run(Heat.Replace("\"u_t = alpha*u_xx\"", "\"u_t = alpha*u_xx")),
                         "bad.yaml:", "malformed YAML", "quoted");
        yield return new("yaml_not_a_mapping", s => s.Run("- problem: poisson1d\n"),
                         "bad.yaml:1", "mapping of sections");

        // ---- wrong types
        yield return new("type_steps_word", s => s.Run("problem: poisson1d\ntraining:\n  steps: many\n", budget: false),
                         "bad.yaml:3", "training.steps", "'many'");
        yield return new("type_steps_fraction", s => s.Run("problem: poisson1d\ntraining:\n  steps: 2.5\n", budget: false),
                         "bad.yaml:3", "training.steps", "'2.5'");
        yield return new("type_training_scalar", s => s.Run("problem: poisson1d\ntraining: fast\n", budget: false),
                         "bad.yaml:2", "training: expected a mapping");
        yield return new("type_layers_scalar", s => s.Run("problem: poisson1d\nmodel:\n  layers: 64\n"),
                         "bad.yaml:3", "model.layers");
        yield return new("type_layers_zero_width", s => s.Run("problem: poisson1d\nmodel:\n  layers: [0, 8]\n"),
                         "bad.yaml:3", "model.layers", "[0, 8]");
        yield return new("type_lr_list", s => s.Run("problem: poisson1d\ntraining:\n  lr: [1, 2]\n"),
                         "bad.yaml:3", "training.lr");
        yield return new("type_bool", s => s.Run("problem: heat1d\ntraining:\n  causal: {enabled: maybe}\n"),
                         "bad.yaml:3", "training.causal.enabled", "'maybe'");
        yield return new("type_fields_scalar", s => s.Run(Heat.Replace("fields: [u]", "fields: u")),
                         "bad.yaml:5", "problem.fields");
        yield return new("type_model_type", s => s.Run("problem: heat1d\nmodel:\n  type: cnn\n"),
                         "bad.yaml:3", "model.type", "'cnn'");
        yield return new("type_activation", s => s.Run("problem: heat1d\nmodel:\n  activation: relu\n"),
                         "bad.yaml:3", "model.activation", "'relu'");
        yield return new("type_dtype", s => s.Run("problem: heat1d\ntraining:\n  dtype: float16\n"),
                         "bad.yaml:3", "training.dtype", "'float16'");
        yield return new("type_device", s => s.Run("problem: heat1d\ntraining:\n  device: tpu\n"),
                         "bad.yaml:3", "training.device", "'tpu'");
        yield return new("type_sampler", s => s.Run("problem: heat1d\ntraining:\n  sampler: randm\n"),
                         "bad.yaml:3", "training.sampler", "'randm'");
        yield return new("type_batch_zero", s => s.Run("problem: heat1d\ntraining:\n  batch: {pde: 0}\n"),
                         "bad.yaml:3", "training.batch.pde");
        yield return new("type_causal_chunks_above_batch", s => s.Run("problem: heat1d\ntraining:\n  batch: {pde: 8}\n  causal: {chunks: 32}\n"),
                         "bad.yaml:4", "training.causal.chunks");

        // ---- unknown keys, at every level
        yield return new("key_root", s => s.Run("problem: poisson1d\ntraning: {steps: 2}\n"),
                         "bad.yaml:2", "'traning'", "did you mean 'training'");
        yield return new("key_problem", s => s.Run("problem:\n  name: burgers\n  paramters: {nu: 0.01}\n"),
                         "bad.yaml:3", "'problem.paramters'");
        yield return new("key_problem_inline", s => s.Run(Heat + "  boundary: {x: 0}\n"),
                         "bad.yaml:12", "'problem.boundary'");
        yield return new("key_problem_parameter", s => s.Run("problem:\n  name: burgers\n  parameters: {mu: 0.1}\n"),
                         "bad.yaml:3", "'mu'");
        yield return new("key_condition", s => s.Run(Heat.Replace("equation: \"u = 0\"}", "equation: \"u = 0\", vaule: 1}")),
                         "bad.yaml:11", "'problem.conditions[2].vaule'");
        yield return new("key_model", s => s.Run("problem: poisson1d\nmodel:\n  layer: [8, 8]\n"),
                         "bad.yaml:3", "'model.layer'", "did you mean 'model.layers'");
        yield return new("key_model_periodic_axis", s => s.Run("problem: heat1d\nmodel:\n  periodic: {y: {period: 1}}\n"),
                         "bad.yaml:3", "model.periodic", "'y'");
        yield return new("key_model_gaussians", s => s.Run("problem: helmholtz2d\nmodel:\n  type: pig\n  gaussians: {cont: 10}\n"),
                         "bad.yaml:4", "'model.gaussians.cont'", "did you mean 'model.gaussians.count'");
        yield return new("key_model_gp", s => s.Run("problem: poisson1d_sin20\nmodel:\n  type: gp\n  grid: {x: 64}\n  max_frequency: 4\n  layers: [8]\n"),
                         "bad.yaml:6", "'model.layers'");
        yield return new("key_training", s => s.Run("problem: poisson1d\ntraining:\n  stpes: 2\n"),
                         "bad.yaml:3", "'training.stpes'", "did you mean 'training.steps'");
        yield return new("key_training_batch", s => s.Run("problem: heat1d\ntraining:\n  batch: {pdee: 64}\n"),
                         "bad.yaml:3", "training.batch", "'pdee'", "did you mean 'pde'");
        yield return new("key_training_batch_time_marching", s => s.Run("problem: heat1d\ntraining:\n  time_windows: 2\n  batch: {pdee: 64}\n"),
                         "bad.yaml:4", "training.batch", "'pdee'");
        yield return new("key_training_weights", s => s.Run("problem: heat1d\ntraining:\n  weights:\n    icc: 10\n"),
                         "bad.yaml:4", "training.weights", "'icc'");
        yield return new("key_training_causal", s => s.Run("problem: heat1d\ntraining:\n  causal: {chunk: 4}\n"),
                         "bad.yaml:3", "'training.causal.chunk'", "did you mean 'training.causal.chunks'");
        yield return new("key_training_balancing", s => s.Run("problem: heat1d\ntraining:\n  balancing:\n    evry: 10\n"),
                         "bad.yaml:4", "'training.balancing.evry'");
        yield return new("key_evaluation", s => s.Run("problem: heat1d\nevaluation:\n  gird: {x: 11}\n"),
                         "bad.yaml:3", "'evaluation.gird'", "did you mean 'evaluation.grid'");
        yield return new("key_output", s => s.Run("problem: heat1d\noutput:\n  nmae: mine\n"),
                         "bad.yaml:3", "'output.nmae'", "did you mean 'output.name'");

        // ---- equations: unknown symbols, arity, derivatives of unknown coordinates
        yield return new("eq_unknown_symbol", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*uxx")),
                         "bad.yaml:8", "'uxx'", "did you mean 'u_xx'");
        yield return new("eq_unknown_function", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*sni(u_xx)")),
                         "bad.yaml:8", "'sni'", "did you mean 'sin'");
        yield return new("eq_unknown_parameter", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = beta*u_xx")),
                         "bad.yaml:8", "'beta'");
        yield return new("eq_arity_sin", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*sin(u_xx, x)")),
                         "bad.yaml:8", "sin()", "1 argument");
        yield return new("eq_arity_d", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = d(u)")),
                         "bad.yaml:8", "d()");
        yield return new("eq_derivative_unknown_coordinate", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*d(u, y, y)")),
                         "bad.yaml:8", "'y'");
        yield return new("eq_subscript_unknown_coordinate", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*u_yy")),
                         "bad.yaml:8", "'u_yy'");
        yield return new("eq_condition_unknown_field", s => s.Run(Heat.Replace("equation: \"u = 0\"", "equation: \"w = 0\"")),
                         "bad.yaml:11", "'w'", "condition 2");
        yield return new("eq_exact_unknown_symbol", s => s.Run(Heat + "  exact: {u: \"sin(pi*z)\"}\n"),
                         "bad.yaml:12", "'z'");
        yield return new("eq_two_equals", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*u_xx = 0")),
                         "bad.yaml:8", "more than one '='");
        yield return new("eq_unbalanced_parenthesis", s => s.Run(Heat.Replace("u_t = alpha*u_xx", "u_t = alpha*(u_xx")),
                         "bad.yaml:8", "')'");

        // ---- domains
        yield return new("domain_empty", s => s.Run(Heat.Replace("x: [0, 1]", "x: [1, 1]")),
                         "bad.yaml:3", "problem.coordinates.x", "[1, 1]", "empty");
        yield return new("domain_reversed", s => s.Run(Heat.Replace("x: [0, 1]", "x: [1, 0]")),
                         "bad.yaml:3", "problem.coordinates.x", "[1, 0]", "reversed");
        yield return new("domain_time_reversed", s => s.Run(Heat.Replace("t: [0, 1]", "t: [1, 0]")),
                         "bad.yaml:4", "problem.time.t", "[1, 0]", "reversed");
        yield return new("domain_not_a_range", s => s.Run(Heat.Replace("x: [0, 1]", "x: [0]")),
                         "bad.yaml:3", "problem.coordinates.x", "[min, max]");
        yield return new("domain_evaluation_grid_zero", s => s.Run("problem: heat1d\nevaluation:\n  grid: {x: 0, t: 11}\n"),
                         "bad.yaml:3", "evaluation.grid.x");
        yield return new("domain_evaluation_grid_dimensions", s => s.Run("problem: heat1d\nevaluation:\n  grid: [10, 10, 10]\n"),
                         "bad.yaml:3", "evaluation.grid", "3 counts for 2 coordinates");

        // ---- reference files: missing, corrupt, wrong shapes, wrong names
        yield return new("ref_missing", s => s.Run(HeatWithReference("missing.npz")),
                         "bad.yaml:12", "missing.npz", "not found");
        yield return new("ref_npy_truncated_header", s =>
        {
            s.WriteBytes("ref.npy", NpyBytes(s, HeatTable())[..20]);
            return s.Run(HeatWithReference("ref.npy"));
        }, "bad.yaml:12", "ref.npy", "truncated .npy header");
        yield return new("ref_npy_truncated_data", s =>
        {
            var bytes = NpyBytes(s, HeatTable());
            s.WriteBytes("ref.npy", bytes[..(bytes.Length - 9)]);
            return s.Run(HeatWithReference("ref.npy"));
        }, "bad.yaml:12", "ref.npy", "truncated data");
        yield return new("ref_npy_empty", s =>
        {
            s.WriteBytes("ref.npy", []);
            return s.Run(HeatWithReference("ref.npy"));
        }, "bad.yaml:12", "ref.npy", "empty");
        yield return new("ref_npy_wrong_shape", s =>
        {
            s.WriteBytes("ref.npy", NpyBytes(s, HeatTable(columns: 2)));
            return s.Run(HeatWithReference("ref.npy"));
        }, "bad.yaml:12", "ref.npy", "n×3", "[4, 2]");
        yield return new("ref_npz_truncated", s =>
        {
            var bytes = NpzBytes(s, HeatGrid());
            s.WriteBytes("ref.npz", bytes[..(bytes.Length / 2)]);
            return s.Run(HeatWithReference("ref.npz"));
        }, "bad.yaml:12", "ref.npz", "zip");
        yield return new("ref_npz_not_a_zip", s =>
        {
            s.Write("ref.npz", "x,t,u\n0,0,0\n");
            return s.Run(HeatWithReference("ref.npz"));
        }, "bad.yaml:12", "ref.npz", "not a zip archive");
        yield return new("ref_npz_wrong_field_name", s =>
        {
            s.WriteBytes("ref.npz", NpzBytes(s, HeatGrid(field: "v")));
            return s.Run(HeatWithReference("ref.npz"));
        }, "bad.yaml:12", "ref.npz", "no array 'u'");
        yield return new("ref_npz_wrong_array_mapping", s =>
        {
            s.WriteBytes("ref.npz", NpzBytes(s, HeatGrid()));
            return s.Run(HeatWithReference("ref.npz", ", arrays: {u: usol}"));
        }, "bad.yaml:12", "ref.npz", "no array 'usol'");
        yield return new("ref_npz_wrong_grid_shape", s =>
        {
            s.WriteBytes("ref.npz", NpzBytes(s, HeatGrid(nx: 4)));
            return s.Run(HeatWithReference("ref.npz"));
        }, "bad.yaml:12", "ref.npz", "'u'", "[4, 3]", "[5, 3]");
        yield return new("ref_csv_wrong_column", s =>
        {
            s.Write("ref.csv", "x,t,v\n0,0,0\n1,1,0\n");
            return s.Run(HeatWithReference("ref.csv"));
        }, "bad.yaml:12", "ref.csv", "no column 'u'");
        yield return new("ref_csv_ragged_row", s =>
        {
            s.Write("ref.csv", "x,t,u\n0,0,0\n1,1\n");
            return s.Run(HeatWithReference("ref.csv"));
        }, "bad.yaml:12", "ref.csv:3", "expected 3 values");
        yield return new("ref_unsupported_type", s =>
        {
            s.Write("ref.txt", "0 0 0\n");
            return s.Run(HeatWithReference("ref.txt"));
        }, "bad.yaml:12", "ref.txt", "'.txt'");

        // ---- the GP solver
        yield return new("gp_below_nyquist", s => s.Run("problem: poisson1d_sin20\nmodel:\n  type: gp\n  grid: {x: 16}\n  max_frequency: 100\n"),
                         "bad.yaml:5", "model.max_frequency", "Nyquist", "model.grid.x");
        yield return new("gp_grid_unknown_axis", s => s.Run("problem: poisson1d_sin20\nmodel:\n  type: gp\n  grid: {y: 64}\n  max_frequency: 4\n"),
                         "bad.yaml:4", "model.grid", "'y'");
        yield return new("gp_missing_grid", s => s.Run("problem: poisson1d_sin20\nmodel:\n  type: gp\n  max_frequency: 4\n"),
                         "bad.yaml:3", "model.grid");
        yield return new("gp_causal_weighting", s => s.Run("problem: poisson1d_sin20\nmodel: {type: gp, grid: {x: 64}, max_frequency: 4}\ntraining:\n  causal: {enabled: true}\n"),
                         "bad.yaml:4", "training.causal", "GP");
        yield return new("gp_float32", s => s.Run("problem: poisson1d_sin20\nmodel: {type: gp, grid: {x: 64}, max_frequency: 4}\ntraining:\n  dtype: float32\n"),
                         "bad.yaml:4", "training.dtype", "float64");

        // ---- hard constraints (model.hard_constraints): declarations that cannot be honoured name the condition
        yield return new("hard_not_a_mapping", s => s.Run("problem: heat1d\nmodel:\n  hard_constraints: true\n"),
                         "bad.yaml:3", "model.hard_constraints", "mapping");
        yield return new("hard_key_typo", s => s.Run("problem: heat1d\nmodel:\n  hard_constraints: {inital: true}\n"),
                         "bad.yaml:3", "'model.hard_constraints.inital'", "did you mean 'model.hard_constraints.initial'");
        yield return new("hard_bool", s => s.Run("problem: heat1d\nmodel:\n  hard_constraints: {dirichlet: maybe}\n"),
                         "bad.yaml:3", "model.hard_constraints.dirichlet", "'maybe'");
        yield return new("hard_gp", s => s.Run("problem: poisson1d_sin20\nmodel:\n  type: gp\n  grid: {x: 64}\n  max_frequency: 4\n  hard_constraints: {dirichlet: true}\n"),
                         "bad.yaml:6", "'model.hard_constraints'", "does not apply to model type 'gp'");
        yield return new("hard_initial_without_time", s => s.Run("problem: poisson1d\nmodel:\n  hard_constraints:\n    initial: true\n"),
                         "bad.yaml:4", "model.hard_constraints.initial", "no time coordinate");
        yield return new("hard_incompatible_data", s => s.Run(Heat.Replace("u = sin(pi*x)", "u = 1") + "model:\n  hard_constraints: {initial: true, dirichlet: true}\n"),
                         "bad.yaml:13", "model.hard_constraints", "'ic' (u = 1)", "'bc' (u = 0)", "disagree");
        yield return new("hard_initial_not_a_value", s => s.Run(Heat.Replace("u = sin(pi*x)", "u + u_t = sin(pi*x)") + "model:\n  hard_constraints: {initial: true}\n"),
                         "bad.yaml:13", "model.hard_constraints.initial", "'ic'", "not of the form u = u0(x)");
        yield return new("hard_dirichlet_on_periodic_axis", s => s.Run("problem: heat1d\nmodel:\n  periodic: {x: {harmonics: 2}}\n  hard_constraints: {dirichlet: true}\n"),
                         "bad.yaml:4", "model.hard_constraints.dirichlet", "'bc'", "periodic");
        yield return new("hard_initial_time_marching", s => s.Run("problem: heat1d\nmodel:\n  hard_constraints: {initial: true}\ntraining:\n  time_windows: 2\n"),
                         "bad.yaml:3", "model.hard_constraints.initial", "time marching", "'ic'");
        yield return new("hard_weight_for_enforced_term", s => s.Run(Heat.Replace("equation: \"u = 0\"}", "equation: \"u = 0\", name: wall}") +
                                                                      "model:\n  hard_constraints: {dirichlet: true}\ntraining:\n  weights: {wall: 10}\n"),
                         "bad.yaml:15", "training.weights.wall", "'wall' holds exactly");

        // ---- checkpoints written by another model (and broken ones)
        yield return new("ckpt_resume_wider_layers", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            Scratch.Edit(Path.Combine(run, "run.yaml"), "layers: [8, 8]", "layers: [16, 16]");
            return ["run", "--resume", run, "--quiet"];
        }, "checkpoint/state.bin", "'_hidden.0.weight'", "[8, 1]", "[16, 1]");
        yield return new("ckpt_eval_wider_layers", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            Scratch.Edit(Path.Combine(run, "run.yaml"), "layers: [8, 8]", "layers: [16, 16]");
            return ["eval", run];
        }, "checkpoint/state.bin", "'_hidden.0.weight'", "[8, 1]", "[16, 1]");
        yield return new("ckpt_resume_deeper", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            Scratch.Edit(Path.Combine(run, "run.yaml"), "layers: [8, 8]", "layers: [8, 8, 8]");
            return ["run", "--resume", run, "--quiet"];
        }, "checkpoint/state.bin", "6 parameter tensors", "the model has 8");
        yield return new("ckpt_copied_from_another_run", s =>
        {
            var small = s.TrainedRun("small", "[8, 8]");
            var wide = s.TrainedRun("wide", "[8, 16]");
            Directory.Delete(Path.Combine(small, "checkpoint"), recursive: true);
            foreach (var f in Directory.GetFiles(Path.Combine(wide, "checkpoint")))
            {
                Directory.CreateDirectory(Path.Combine(small, "checkpoint"));
                File.Copy(f, Path.Combine(small, "checkpoint", Path.GetFileName(f)));
            }
            return ["run", "--resume", small, "--quiet", "--steps", "5"];
        }, "small/checkpoint/state.bin", "'_hidden.1.weight'", "[16, 8]", "[8, 8]");
        yield return new("ckpt_dtype_changed", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            Scratch.Edit(Path.Combine(run, "run.yaml"), "dtype: float32", "dtype: float64");
            return ["eval", run];
        }, "checkpoint/state.bin", "'_hidden.0.weight'", "Float32", "Float64");
        yield return new("ckpt_truncated", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            var bin = Path.Combine(run, "checkpoint", "state.bin");
            File.WriteAllBytes(bin, File.ReadAllBytes(bin)[..100]);
            return ["run", "--resume", run, "--quiet"];
        }, "checkpoint/state.bin", "truncated");
        yield return new("ckpt_state_json_corrupt", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            File.WriteAllText(Path.Combine(run, "checkpoint", "state.json"), "{\n  \"phase\": 3\n}\n");
            return ["eval", run];
        }, "checkpoint/state.json:2", "phase");
        yield return new("ckpt_missing", s =>
        {
            var run = s.TrainedRun("a", "[8, 8]");
            Directory.Delete(Path.Combine(run, "checkpoint"), recursive: true);
            return ["run", "--resume", run, "--quiet"];
        }, "no checkpoint", "a/checkpoint");
    }

    static readonly Dictionary<string, Case> Cases = All().ToDictionary(c => c.Name);

    public static TheoryData<string> Names => new(Cases.Keys);

    static (int code, string stdout, string stderr) Pinn(params string[] args) => TestInputs.Pinn(args);

    [Fact]
    public void The_corpus_has_at_least_30_rows() => Cases.Should().HaveCountGreaterThanOrEqualTo(30);

    [Theory]
    [MemberData(nameof(Names))]
    public void Bad_input_exits_2_with_one_line_naming_file_line_and_symbol(string name)
    {
        var row = Cases[name];
        var scratch = new Scratch(Path.Combine(_dir, name));
        Directory.CreateDirectory(scratch.Dir);
        var args = row.Setup(scratch);
        var before = RunFiles(scratch.Results);

        var (code, stdout, stderr) = Pinn(args);

        code.Should().Be(PinnCommand.BadInput, $"'{name}' is bad input; stderr: {stderr}");
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
        lines.Should().ContainSingle($"bad input is one line on stderr; got: {stderr}");
        stderr.TrimEnd('\n', '\r').Should().NotContain("\n");
        foreach (var fragment in row.Expect) lines[0].Should().Contain(fragment);
        (stdout + stderr).Should().NotContain("   at ", "no stack trace").And.NotContain("Exception", "no exception type names");

        // Every run folder under the results root says how it ended; a refused resume leaves the run as it was.
        if (Directory.Exists(scratch.Results))
            foreach (var problem in Directory.GetDirectories(scratch.Results))
            {
                Directory.GetDirectories(problem).Should().NotBeEmpty($"{problem} holds a run");
                foreach (var run in Directory.GetDirectories(problem))
                {
                    var metrics = Path.Combine(run, "metrics.json");
                    File.Exists(metrics).Should().BeTrue($"{run} must have a metrics.json");
                    JsonDocument.Parse(File.ReadAllText(metrics)).RootElement.TryGetProperty("status", out _)
                        .Should().BeTrue($"{metrics} must have a status");
                }
            }
        foreach (var (file, text) in before) File.ReadAllText(file).Should().Be(text, $"bad input leaves {file} as it was");
    }

    /// <summary>log.csv and metrics.json of every run under <paramref name="results"/>, with their contents.</summary>
    static IReadOnlyDictionary<string, string> RunFiles(string results) =>
        !Directory.Exists(results)
            ? new Dictionary<string, string>()
            : Directory.GetFiles(results, "*", SearchOption.AllDirectories)
                       .Where(f => Path.GetFileName(f) is "log.csv" or "metrics.json")
                       .Order(StringComparer.Ordinal)
                       .ToDictionary(f => f, File.ReadAllText);
}
