using System.Globalization;

namespace Pinn.Symbolic;

/// <summary>
/// A syntax or name error in an equation string. <see cref="Column"/> is 1-based; <see cref="Symbol"/>
/// is the offending name when there is one. Callers that know the file and line wrap it.
/// </summary>
public sealed class ExprParseException(string detail, int column, string? symbol = null, string? hint = null)
    : PinnException(Compose(detail, null, column, hint))
{
    public string Detail { get; } = detail;
    public int Column { get; } = column;
    public string? Symbol { get; } = symbol;
    public string? Hint { get; } = hint;

    /// <summary>"unknown symbol 'ux' in equation 1 at column 5 (did you mean 'u_x'?)".</summary>
    public string Describe(string? where) => Compose(Detail, where, Column, Hint);

    static string Compose(string detail, string? where, int column, string? hint) =>
        $"{detail}{(where is null ? "" : " in " + where)} at column {column}{(hint is null ? "" : $" ({hint})")}";
}

/// <summary>
/// Parses equation strings into the same trees the C# operators build:
/// <c>"u_t + u*u_x - 0.01/pi*u_xx"</c>, <c>"d(u, x, x)"</c>, <c>"lap(u)"</c>, <c>"x^2"</c> or <c>"x**2"</c>.
/// An optional single '=' makes an equation (<c>"u_tt = 4*u_xx"</c>); without one the text is the residual
/// (the '=' of <c>&lt;=</c> and <c>&gt;=</c> is part of the comparison).
/// Grammar: expr := sum (cmp sum)? with cmp one of &lt; &lt;= &gt; &gt;= (1 or 0; loosest, as in C, and not chained:
/// <c>a &lt; b &lt; c</c> is an error); sum := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
/// unary := ('-'|'+') unary | power; power := primary ('^' unary)?; primary := number | name | name(args) | (expr).
/// Functions: the one-argument <see cref="SymbolTable.Functions"/> (sin … sign, heaviside) and the special forms
/// pow(a, b), min(a, b), max(a, b), piecewise(cond, a, b), d(expr, x, …), lap(expr).
/// </summary>
public sealed class ExprParser
{
    readonly SymbolTable _symbols;
    string _text = "";
    int _pos;

    public ExprParser(SymbolTable symbols) => _symbols = symbols;

    public static Expr ParseExpr(string text, SymbolTable symbols) => new ExprParser(symbols).Parse(text);
    public static Equation ParseEquation(string text, SymbolTable symbols) => new ExprParser(symbols).ParseEq(text);

    public Equation ParseEq(string text)
    {
        var signs = EquationSigns(text);
        if (signs.Count == 0) return Parse(text);
        for (int i = 0; i + 1 < signs.Count; i++)
            if (signs[i + 1] == signs[i] + 1)
                throw new ExprParseException("'==' is not an operator: '=' separates the two sides of an equation (comparisons are <, <=, >, >=)",
                                             signs[i] + 1, "==");
        if (signs.Count > 1)
            throw new ExprParseException("more than one '='", signs[1] + 1);
        int eq = signs[0];
        var lhs = Parse(text[..eq], 0, text);
        var rhs = Parse(text[(eq + 1)..], eq + 1, text);
        return new Equation(lhs, rhs);
    }

    public Expr Parse(string text) => Parse(text, 0, text);

    /// <summary>The positions of the '=' signs that would split <paramref name="text"/> into an equation's two sides: every '=' but those of '&lt;=' and '&gt;='.</summary>
    public static IReadOnlyList<int> EquationSigns(string text)
    {
        var signs = new List<int>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '=' && !(i > 0 && text[i - 1] is '<' or '>')) signs.Add(i);
        return signs;
    }

    int _offset;

    Expr Parse(string part, int offset, string whole)
    {
        _text = part;
        _pos = 0;
        _offset = offset;
        SkipSpace();
        if (_pos >= _text.Length) throw Error("empty expression", _pos);
        var e = ParseComparison();
        SkipSpace();
        if (_pos < _text.Length) throw Error($"unexpected '{_text[_pos]}'", _pos);
        return e;
    }

    ExprParseException Error(string message, int pos, string? symbol = null, string? hint = null) =>
        new(message, _offset + pos + 1, symbol, hint);

    void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
    }

    bool Accept(string token)
    {
        SkipSpace();
        if (string.CompareOrdinal(_text, _pos, token, 0, token.Length) != 0) return false;
        _pos += token.Length;
        return true;
    }

    void Expect(char c)
    {
        SkipSpace();
        if (_pos >= _text.Length) throw Error($"expected '{c}' but the expression ended", _pos);
        if (_text[_pos] != c) throw Error($"expected '{c}' but found '{_text[_pos]}'", _pos);
        _pos++;
    }

    /// <summary>sum (cmp sum)?: one comparison at most; a second is refused where it stands.</summary>
    Expr ParseComparison()
    {
        var left = ParseSum();
        if (AcceptComparison() is not { } op) return left;
        var right = ParseSum();
        SkipSpace();
        int at = _pos;
        if (AcceptComparison() is { } second)
        {
            string a = ExprPrinter.ComparisonSymbol(op), b = ExprPrinter.ComparisonSymbol(second);
            throw Error($"comparisons do not chain: 'x {a} y {b} z' is not read as two comparisons; write (x {a} y)*(y {b} z) for both, " +
                        "or bracket one side", at, b);
        }
        return Sym.Apply(op, left, right);
    }

    BinaryOp? AcceptComparison()
    {
        if (Accept("<=")) return BinaryOp.Le;
        if (Accept(">=")) return BinaryOp.Ge;
        if (Accept("<")) return BinaryOp.Lt;
        if (Accept(">")) return BinaryOp.Gt;
        return null;
    }

    Expr ParseSum()
    {
        var e = ParseTerm();
        while (true)
        {
            if (Accept("+")) e = Sym.Add(e, ParseTerm());
            else if (Accept("-")) e = Sym.Sub(e, ParseTerm());
            else return e;
        }
    }

    Expr ParseTerm()
    {
        var e = ParseUnary();
        while (true)
        {
            SkipSpace();
            // '**' is power, not two multiplications.
            if (_pos + 1 < _text.Length && _text[_pos] == '*' && _text[_pos + 1] == '*') return e;
            if (Accept("*")) e = Sym.Mul(e, ParseUnary());
            else if (Accept("/")) e = Sym.Div(e, ParseUnary());
            else return e;
        }
    }

    Expr ParseUnary()
    {
        if (Accept("-")) return Sym.Neg(ParseUnary());
        if (Accept("+")) return ParseUnary();
        return ParsePower();
    }

    Expr ParsePower()
    {
        var b = ParsePrimary();
        if (Accept("^") || Accept("**")) return Sym.Pow(b, ParseUnary());
        return b;
    }

    Expr ParsePrimary()
    {
        SkipSpace();
        if (_pos >= _text.Length) throw Error("the expression ended where a value was expected", _pos);
        char ch = _text[_pos];
        if (ch == '(')
        {
            _pos++;
            var e = ParseComparison();
            Expect(')');
            return e;
        }
        if (char.IsDigit(ch) || ch == '.') return ParseNumber();
        if (char.IsLetter(ch) || ch == '_') return ParseName();
        throw Error($"unexpected '{ch}'", _pos);
    }

    Expr ParseNumber()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsDigit(_text[_pos]) || _text[_pos] == '.')) _pos++;
        if (_pos < _text.Length && (_text[_pos] == 'e' || _text[_pos] == 'E'))
        {
            int save = _pos++;
            if (_pos < _text.Length && (_text[_pos] == '+' || _text[_pos] == '-')) _pos++;
            if (_pos < _text.Length && char.IsDigit(_text[_pos]))
                while (_pos < _text.Length && char.IsDigit(_text[_pos])) _pos++;
            else _pos = save; // "2e" followed by a name: not an exponent
        }
        var s = _text[start.._pos];
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw Error($"malformed number '{s}'", start);
        return Sym.Const(v);
    }

    Expr ParseName()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
        var name = _text[start.._pos];
        SkipSpace();
        if (_pos < _text.Length && _text[_pos] == '(') return ParseCall(name, start);
        return Resolve(name, start);
    }

    Expr ParseCall(string name, int start)
    {
        _pos++; // '('
        var args = new List<(Expr e, int pos)>();
        SkipSpace();
        if (!Accept(")"))
        {
            do
            {
                SkipSpace();
                args.Add((ParseComparison(), _pos));
            } while (Accept(","));
            Expect(')');
        }
        void Arity(int n)
        {
            if (args.Count != n) throw Error($"{name}() takes {n} argument{(n == 1 ? "" : "s")}, got {args.Count}", start, name);
        }
        if (SymbolTable.Functions.TryGetValue(name, out var op))
        {
            Arity(1);
            return Sym.Apply(op, args[0].e);
        }
        switch (name)
        {
            case "pow":
                Arity(2);
                return Sym.Pow(args[0].e, args[1].e);
            case "min":
                Arity(2);
                return Sym.Min(args[0].e, args[1].e);
            case "max":
                Arity(2);
                return Sym.Max(args[0].e, args[1].e);
            case "piecewise":
                Arity(3);
                return Sym.Piecewise(args[0].e, args[1].e, args[2].e);
            case "lap":
                Arity(1);
                return Sym.Laplacian(args[0].e, _symbols.SpatialCoordinates.Select(Sym.Coord).ToArray());
            case "d":
                if (args.Count < 2) throw Error("d() needs an expression and at least one coordinate, e.g. d(u, x)", start, name);
                var wrt = new List<string>();
                foreach (var (a, _) in args.Skip(1))
                {
                    if (a is not Coordinate c)
                        throw Error($"d(): '{a}' is not a coordinate (coordinates: {string.Join(", ", _symbols.Coordinates)})", start, a.ToString());
                    wrt.Add(c.Name);
                }
                return Sym.D(args[0].e, wrt.ToArray());
        }
        throw Unknown(name, start, isCall: true);
    }

    Expr Resolve(string name, int start)
    {
        if (_symbols.Coordinates.Contains(name)) return Sym.Coord(name);
        if (_symbols.Fields.Contains(name)) return Sym.Field(name);
        if (_symbols.Parameters.Contains(name)) return Sym.Param(name);
        if (SymbolTable.Constants.TryGetValue(name, out var k)) return k;
        if (TryDerivativeShorthand(name) is { } d) return d;
        throw Unknown(name, start, isCall: false);
    }

    /// <summary>u_xt → ∂²u/∂x∂t: a field name, '_', then a run of coordinate names.</summary>
    Expr? TryDerivativeShorthand(string name)
    {
        foreach (var f in _symbols.Fields.OrderByDescending(f => f.Length))
        {
            if (!name.StartsWith(f + "_", StringComparison.Ordinal)) continue;
            var rest = name[(f.Length + 1)..];
            var wrt = new List<string>();
            if (SplitCoordinates(rest, wrt)) return new FieldDerivative(f, wrt);
        }
        return null;
    }

    bool SplitCoordinates(string rest, List<string> wrt)
    {
        if (rest.Length == 0) return wrt.Count > 0;
        foreach (var c in _symbols.Coordinates.OrderByDescending(c => c.Length))
        {
            if (!rest.StartsWith(c, StringComparison.Ordinal)) continue;
            wrt.Add(c);
            if (SplitCoordinates(rest[c.Length..], wrt)) return true;
            wrt.RemoveAt(wrt.Count - 1);
        }
        return false;
    }

    ExprParseException Unknown(string name, int start, bool isCall)
    {
        var candidates = isCall
            ? SymbolTable.Functions.Keys.Concat(SymbolTable.SpecialForms)
            : _symbols.KnownNames();
        var best = Suggest(name, candidates);
        var what = isCall ? "function" : "symbol";
        return Error($"unknown {what} '{name}'", start, name, best is null ? null : $"did you mean '{best}'?");
    }

    /// <summary>
    /// The closest known name by edit distance (adjacent swaps count as one edit), if close enough to be
    /// a plausible typo. Ties go to a candidate that contains the typed name's letters in order
    /// (uxx → u_xx rather than u_x).
    /// </summary>
    public static string? Suggest(string name, IEnumerable<string> candidates)
    {
        var best = candidates.Distinct()
            .Select(c => (c, d: EditDistance(name, c), sub: IsSubsequence(name, c)))
            .OrderBy(t => t.d).ThenByDescending(t => t.sub).ThenBy(t => Math.Abs(t.c.Length - name.Length))
            .FirstOrDefault();
        int limit = name.Length >= 4 ? Math.Max(2, name.Length / 3) : 1;
        return best.c is not null && best.d <= limit ? best.c : null;
    }

    static bool IsSubsequence(string a, string b)
    {
        int i = 0;
        foreach (var ch in b) if (i < a.Length && a[i] == ch) i++;
        return i == a.Length;
    }

    /// <summary>Optimal-string-alignment distance: Levenshtein plus transposition of neighbours.</summary>
    static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
