namespace Pinn.Symbolic;

/// <summary>An integral constraint as written: <c>integral(psi^2, x) = 1</c> or <c>mean(u) = 0</c>.</summary>
public sealed record IntegralEquation(Expr Integrand, IReadOnlyList<string> Axes, Expr Value, bool Mean);

/// <summary>
/// Parses the text of an integral condition: <c>integral(EXPR[, AXIS…]) = VALUE</c> or <c>mean(EXPR[, AXIS…]) = VALUE</c>, the axes
/// defaulting to every coordinate and a missing <c>= VALUE</c> meaning zero. The integral is a whole side of the condition, not a
/// node of the expression language: it is evaluated by quadrature over the domain, not at collocation points. Errors are
/// <see cref="ExprParseException"/>s whose columns count in the whole text.
/// </summary>
public static class IntegralSyntax
{
    public static IntegralEquation Parse(string text, SymbolTable symbols)
    {
        int eq = TopLevelEquals(text);
        string lhs = eq < 0 ? text : text[..eq];
        int lead = lhs.Length - lhs.TrimStart().Length;
        var head = lhs.Trim();
        bool mean = head.StartsWith("mean", StringComparison.Ordinal);
        string keyword = mean ? "mean" : "integral";
        if (!head.StartsWith(keyword, StringComparison.Ordinal) || head[keyword.Length..].TrimStart() is not ['(', ..])
            throw new ExprParseException("an integral condition reads integral(EXPR, x) = VALUE or mean(EXPR) = VALUE", lead + 1);
        int open = lead + head.IndexOf('(');
        int close = Matching(text, open);
        if (close < 0) throw new ExprParseException("unbalanced parentheses", open + 1);
        var rest = text[(close + 1)..(eq < 0 ? text.Length : eq)];
        if (rest.Trim().Length > 0)
            throw new ExprParseException($"nothing may follow {keyword}(…) on its side of '=' (write the whole side as one {keyword})",
                                         close + 2 + rest.Length - rest.TrimStart().Length);
        var args = SplitTopLevel(text, open + 1, close);
        if (args.Count == 0 || text[args[0].Start..args[0].End].Trim().Length == 0)
            throw new ExprParseException($"{keyword}() needs an integrand", open + 2);
        var integrand = Sub(text, args[0].Start, args[0].End, symbols);
        var axes = new List<string>();
        foreach (var (s, e) in args.Skip(1))
        {
            var name = text[s..e].Trim();
            int col = s + (text[s..e].Length - text[s..e].TrimStart().Length) + 1;
            if (!symbols.Coordinates.Contains(name))
                throw new ExprParseException($"'{name}' is not a coordinate to integrate over (coordinates: {string.Join(", ", symbols.Coordinates)})", col, name,
                                             ExprParser.Suggest(name, symbols.Coordinates) is { } h ? $"did you mean '{h}'?" : null);
            axes.Add(name);
        }
        if (axes.Count == 0) axes.AddRange(symbols.Coordinates);
        Expr value = eq < 0 ? new Constant(0) : Sub(text, eq + 1, text.Length, symbols);
        return new IntegralEquation(integrand, axes, value, mean);
    }

    /// <summary>Parses text[start..end) as an expression; error columns are shifted to count in the whole text.</summary>
    static Expr Sub(string text, int start, int end, SymbolTable symbols)
    {
        try { return ExprParser.ParseExpr(text[start..end], symbols); }
        catch (ExprParseException e) { throw new ExprParseException(e.Detail, e.Column + start, e.Symbol, e.Hint); }
    }

    /// <summary>The index of the '=' that splits the condition (not one of &lt;=, &gt;=, ==, !=), or −1.</summary>
    static int TopLevelEquals(string text)
    {
        int depth = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == '=' && depth == 0)
            {
                bool partOfOperator = i > 0 && "<>=!".Contains(text[i - 1]) || i + 1 < text.Length && text[i + 1] == '=';
                if (!partOfOperator) return i;
            }
        }
        return -1;
    }

    static int Matching(string text, int open)
    {
        int depth = 0;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')' && --depth == 0) return i;
        }
        return -1;
    }

    static List<(int Start, int End)> SplitTopLevel(string text, int start, int end)
    {
        var parts = new List<(int, int)>();
        int depth = 0, from = start;
        for (int i = start; i < end; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                parts.Add((from, i));
                from = i + 1;
            }
        }
        if (end > from || parts.Count > 0) parts.Add((from, end));
        return parts;
    }
}
