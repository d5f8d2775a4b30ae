// TEMPORARY stub until the ETDRK4 solver lands
using Pinn.Problems;
namespace Pinn.References {
public sealed class Etdrk4Solver {
  public static Etdrk4Solver AllenCahn(double diffusion = 1e-4, double reaction = 5, int points = 512, double a = -1, double period = 2) => new();
  public static Etdrk4Solver KuramotoSivashinsky(double alpha = 5, double beta = 0.5, double gamma = 0.005, int points = 512, double a = -1, double period = 2) => new();
}
public sealed class SpectralReference(Func<Problem, Etdrk4Solver> solver, Func<double, double> u0, double dt, string description, string x = "x", string t = "t") : PointwiseReference {
  public override string Description => description;
  public override double[,] Evaluate(Problem problem, double[,] points) => throw new NotImplementedException();
}}
