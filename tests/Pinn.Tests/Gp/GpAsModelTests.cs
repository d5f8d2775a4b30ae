using System.Reflection;
using System.Reflection.Emit;
using FluentAssertions;
using Pinn.Gp;
using Pinn.Models;
using Pinn.Problems;
using Pinn.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TorchParameter = TorchSharp.Modules.Parameter;

namespace Pinn.Tests.Gp;

/// <summary>
/// Issue 15, item 2: the GP reaches the trainer as an ordinary <see cref="IFieldModel"/> (its terms through
/// <see cref="IFieldModel.CreateTerms"/>, its solve through <see cref="IFieldModel.AfterStep"/>); the trainer, its
/// phases and <see cref="StepContext"/> reference no GP type.
/// </summary>
public class GpAsModelTests
{
    static readonly Dictionary<short, OpCode> Ops = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    /// <summary>Every type, method and field token in a method body's IL (a small opcode walker).</summary>
    static IEnumerable<MemberInfo> Referenced(MethodBase m)
    {
        var il = m.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArgs = m.DeclaringType is { IsGenericType: true } dt ? dt.GetGenericArguments() : null;
        var methodArgs = m is MethodInfo { IsGenericMethod: true } gm ? gm.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short v = il[i++];
            if (v == 0xFE) v = unchecked((short)(0xFE00 | il[i++]));
            var op = Ops[v];
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineType or OperandType.InlineTok or OperandType.InlineMethod or OperandType.InlineField)
                yield return m.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArgs, methodArgs)!;
            i += size;
        }
    }

    static IEnumerable<Type> TypesOf(MemberInfo member)
    {
        IEnumerable<Type> Expand(Type t) => t.HasElementType ? Expand(t.GetElementType()!)
            : t.IsGenericType ? [t, .. t.GetGenericArguments().SelectMany(Expand)] : [t];
        var direct = member switch
        {
            Type t => [t],
            MethodInfo mi => [mi.DeclaringType!, mi.ReturnType, .. mi.GetParameters().Select(p => p.ParameterType),
                              .. mi.IsGenericMethod ? mi.GetGenericArguments() : []],
            ConstructorInfo ci => [ci.DeclaringType!, .. ci.GetParameters().Select(p => p.ParameterType)],
            FieldInfo fi => [fi.DeclaringType!, fi.FieldType],
            _ => new[] { member.DeclaringType! },
        };
        return direct.Where(t => t is not null).SelectMany(Expand);
    }

    static IEnumerable<Type> WithNested(Type t) =>
        [t, .. t.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(WithNested)];

    /// <summary>Types from the GP namespace referenced anywhere in the IL of <paramref name="types"/> (and their nested types).</summary>
    static List<string> GpReferences(IEnumerable<Type> types)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        return types.SelectMany(WithNested).Distinct()
            .SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            .SelectMany(m => Referenced(m).SelectMany(TypesOf).Where(r => r.Namespace == "Pinn.Gp").Select(r => $"{m.DeclaringType!.Name}.{m.Name} → {r.Name}"))
            .Distinct().ToList();
    }

    [Fact]
    public void Trainer_phases_and_step_context_reference_no_gp_type()
    {
        var asm = typeof(Trainer).Assembly;
        var scanned = new[] { typeof(Trainer), typeof(StepContext) }
            .Concat(asm.GetTypes().Where(t => t.Namespace == "Pinn.Training.Phases" && !t.IsNested)).ToList();
        scanned.Select(t => t.Name).Should().Contain("AdamPhase");
        GpReferences(scanned).Should().BeEmpty();
        // the scanner can fail: the GP's own loss terms do reference the GP
        GpReferences([typeof(GpLoss), typeof(GpLikelihoodTerm)]).Should().NotBeEmpty();
        // the special route is gone: no IModelLoss, no per-step "shared" bag on the context
        asm.GetType("Pinn.Training.IModelLoss").Should().BeNull();
        typeof(StepContext).GetMethods().Select(m => m.Name).Should().NotContain("Shared");
    }

    /// <summary>A model that is not a GP and brings its own point strategy: one term of its own.</summary>
    sealed class OwnTermsModel : IFieldModel
    {
        readonly TorchParameter _w = new(zeros(1, dtype: ScalarType.Float64));
        public OwnTerm Term { get; } = new();
        public int InputDim => 2;
        public int OutputDim => 1;
        public Tensor Forward(Tensor points) => points[.., ..1] * _w;
        public IReadOnlyList<TorchParameter> TrainableParameters => [_w];
        public IReadOnlyList<LossTerm>? CreateTerms(Problem problem, TrainingOptions options) => [Term];
        public int AfterSteps { get; private set; }
        public void AfterStep(int stepsDone, Func<StepContext> newContext, IReadOnlyList<LossTerm> terms) => AfterSteps++;
        public string Describe() => "own terms";
        public void Dispose() => _w.Dispose();
    }

    sealed class OwnTerm() : LossTerm("own", "pde", 1)
    {
        public override Tensor Loss(StepContext ctx) => ctx.Model.TrainableParameters[0].sub(1).square().sum();
    }

    [Fact]
    public void A_gp_and_any_other_model_with_own_terms_go_through_the_same_term_builder()
    {
        var problem = new ProblemCatalog().Create("poisson2d_sin6cos20")!;
        var options = TrainingOptions.GpDefaults with { Steps = 3 };
        using (var gp = new GridGpField(new GpOptions
               {
                   Grid = new Dictionary<string, int> { ["*"] = 16 }, MaxFrequency = new Dictionary<string, double> { ["*"] = 0.5 },
               }, problem, ScalarType.Float64, CPU))
        using (var trainer = new Trainer(problem, gp, options, ScalarType.Float64, CPU))
        {
            var own = gp.CreateTerms(problem, options);
            trainer.Terms.Select(t => (t.GetType(), t.Name)).Should().Equal(own.Select(t => (t.GetType(), t.Name)));
            // the prior is the model's (IFieldModel.PriorLoss), not a term: the trainer adds it first and logs it as "prior"
            trainer.Terms.Should().NotContain(t => t.Name == "prior");
            using var scope = NewDisposeScope();
            var ctx = trainer.NewContext();
            var (total, logged) = ((Pinn.Training.Phases.IPhaseHost)trainer).Loss(ctx);
            logged[0].Name.Should().Be("prior");
            double prior = gp.PriorLoss(ctx)!.ToDouble();
            logged[0].Value.ToDouble().Should().Be(prior);
            // the total is the prior plus the weighted terms, summed in that order
            double sum = prior;
            foreach (var t in trainer.Terms) sum += t.Weight * t.Loss(ctx).ToDouble();
            total.ToDouble().Should().BeApproximately(sum, 1e-12 * Math.Abs(sum));
        }
        using var model = new OwnTermsModel();
        using var t2 = new Trainer(problem, model, options, ScalarType.Float64, CPU);
        t2.Terms.Should().Equal(model.Term);
        t2.Train();
        model.AfterSteps.Should().Be(3);
    }
}
