namespace Pinn.Symbolic;

/// <summary>The names an equation string may use: coordinates, fields, parameters (plus pi and e).</summary>
public sealed class SymbolTable
{
    public SymbolTable(IEnumerable<string> coordinates, IEnumerable<string> fields,
                       IEnumerable<string>? parameters = null, IEnumerable<string>? spatialCoordinates = null)
    {
        Coordinates = coordinates.ToArray();
        Fields = fields.ToArray();
        Parameters = (parameters ?? []).ToArray();
        SpatialCoordinates = (spatialCoordinates ?? Coordinates).ToArray();
        var dup = Coordinates.Concat(Fields).Concat(Parameters).GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            throw new PinnException($"the name '{dup.Key}' is declared twice (coordinates, fields and parameters must have distinct names)");
    }

    public IReadOnlyList<string> Coordinates { get; }
    public IReadOnlyList<string> SpatialCoordinates { get; }
    public IReadOnlyList<string> Fields { get; }
    public IReadOnlyList<string> Parameters { get; }

    public static readonly IReadOnlyDictionary<string, NamedConstant> Constants =
        new Dictionary<string, NamedConstant> { ["pi"] = Sym.Pi, ["e"] = Sym.E };

    public static readonly IReadOnlyDictionary<string, UnaryOp> Functions = new Dictionary<string, UnaryOp>
    {
        ["sin"] = UnaryOp.Sin, ["cos"] = UnaryOp.Cos, ["tan"] = UnaryOp.Tan, ["exp"] = UnaryOp.Exp,
        ["log"] = UnaryOp.Log, ["ln"] = UnaryOp.Log, ["tanh"] = UnaryOp.Tanh, ["sinh"] = UnaryOp.Sinh,
        ["cosh"] = UnaryOp.Cosh, ["sqrt"] = UnaryOp.Sqrt, ["abs"] = UnaryOp.Abs, ["sign"] = UnaryOp.Sign,
        ["heaviside"] = UnaryOp.Heaviside,
    };

    /// <summary>Names with special parsing: d(expr, x, …), lap(expr), pow(a, b), min(a, b), max(a, b), piecewise(cond, a, b).</summary>
    public static readonly IReadOnlyList<string> SpecialForms = ["d", "lap", "pow", "min", "max", "piecewise"];

    /// <summary>Every name a user could have meant, for "did you mean" suggestions.</summary>
    public IEnumerable<string> KnownNames()
    {
        foreach (var n in Coordinates.Concat(Fields).Concat(Parameters).Concat(Constants.Keys)) yield return n;
        foreach (var f in Fields)
        {
            foreach (var c in Coordinates.Where(c => c.Length == 1))
            {
                yield return $"{f}_{c}";
                yield return $"{f}_{c}{c}";
            }
        }
    }
}
