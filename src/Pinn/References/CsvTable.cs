using System.Globalization;
using System.Text;

namespace Pinn.References;

/// <summary>
/// A table of named numeric columns, read from / written to a simple CSV file: the first non-empty line that
/// does not start with '#' is the header; every following non-empty, non-comment line is a row of
/// comma-separated numbers (whitespace around values is ignored, invariant culture, nan/inf accepted).
/// </summary>
public sealed class CsvTable
{
    readonly string? _source;

    public CsvTable(string[] header, double[][] columns) : this(header, columns, null) { }

    CsvTable(string[] header, double[][] columns, string? source)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(columns);
        if (header.Length != columns.Length)
            throw new PinnException($"table has {header.Length} column names but {columns.Length} columns", source);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int j = 0; j < header.Length; j++)
        {
            if (string.IsNullOrWhiteSpace(header[j])) throw new PinnException($"column {j + 1} has an empty name", source);
            if (!seen.Add(header[j])) throw new PinnException($"duplicate column name '{header[j]}'", source);
            if (columns[j] is null) throw new PinnException($"column '{header[j]}' is null", source);
        }
        int rows = columns.Length == 0 ? 0 : columns[0].Length;
        for (int j = 1; j < columns.Length; j++)
            if (columns[j].Length != rows)
                throw new PinnException($"column '{header[j]}' has {columns[j].Length} values but column '{header[0]}' has {rows}", source);
        Header = (string[])header.Clone();
        Columns = columns;
        Rows = rows;
        _source = source;
    }

    public string[] Header { get; }

    /// <summary>Columns[j][i] is row i of column j.</summary>
    public double[][] Columns { get; }

    public int Rows { get; }

    public double[] Column(string name)
    {
        int j = Array.IndexOf(Header, name);
        if (j < 0)
            throw new PinnException($"no column '{name}' (available: {string.Join(", ", Header)})", _source);
        return Columns[j];
    }

    /// <param name="headerless">Column names for a file without a header: when given and every cell of the first line parses
    /// as a number, that line is the first row and the columns are these names, in this order.</param>
    public static CsvTable Read(string path, IReadOnlyList<string>? headerless = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        string[] lines;
        try { lines = File.ReadAllLines(path, Encoding.UTF8); }
        catch (FileNotFoundException) { throw new PinnException("file not found", path); }
        catch (DirectoryNotFoundException) { throw new PinnException("file not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot read file: {e.Message}", path, inner: e); }

        string[]? header = null;
        bool noHeader = false;
        List<double>[] cols = [];
        for (int li = 0; li < lines.Length; li++)
        {
            int lineNo = li + 1;
            var line = lines[li].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var cells = line.Split(',');
            if (header is null && headerless is not null && cells.All(c => TryParse(c.Trim(), out _)))
            {
                header = headerless.ToArray();
                cols = header.Select(_ => new List<double>()).ToArray();
                noHeader = true;
            }
            if (header is null)
            {
                header = new string[cells.Length];
                var seen = new HashSet<string>(StringComparer.Ordinal);
                for (int j = 0; j < cells.Length; j++)
                {
                    var name = Unquote(cells[j].Trim());
                    if (name.Length == 0) throw new PinnException($"column {j + 1} of the header has an empty name", path, lineNo);
                    if (!seen.Add(name)) throw new PinnException($"duplicate column name '{name}' in the header", path, lineNo);
                    header[j] = name;
                }
                cols = header.Select(_ => new List<double>()).ToArray();
                continue;
            }
            if (cells.Length != header.Length)
                throw new PinnException($"expected {header.Length} values ({string.Join(", ", header)}), found {cells.Length}"
                                        + (noHeader ? $" (no header line: the columns are taken as {string.Join(", ", header)}, in that order)" : ""), path, lineNo);
            for (int j = 0; j < cells.Length; j++)
            {
                var cell = cells[j].Trim();
                if (!TryParse(cell, out double v))
                    throw new PinnException(
                        cell.Length == 0 ? $"empty value in column '{header[j]}'" : $"column '{header[j]}': cannot parse '{cell}' as a number",
                        path, lineNo);
                cols[j].Add(v);
            }
        }
        if (header is null) throw new PinnException("no header line (the file is empty)", path);
        return new CsvTable(header, cols.Select(c => c.ToArray()).ToArray(), path);
    }

    static string Unquote(string s) =>
        s.Length >= 2 && ((s[0] == '"' && s[^1] == '"') || (s[0] == '\'' && s[^1] == '\'')) ? s[1..^1].Trim() : s;

    static bool TryParse(string s, out double v)
    {
        if (s.Length == 0) { v = 0; return false; }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v)) return true;
        switch (s.ToLowerInvariant())
        {
            case "nan": case "+nan": case "-nan": v = double.NaN; return true;
            case "inf": case "+inf": case "infinity": case "+infinity": v = double.PositiveInfinity; return true;
            case "-inf": case "-infinity": v = double.NegativeInfinity; return true;
            default: return false;
        }
    }

    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        foreach (var h in Header)
            if (h.Contains(',') || h.Contains('\n') || h.Contains('\r') || h.Trim().Length != h.Length || h.StartsWith('#'))
                throw new PinnException($"column name '{h}' cannot be written to a CSV header", path);
        try
        {
            using var w = new StreamWriter(path, false, new UTF8Encoding(false));
            w.NewLine = "\n";
            w.WriteLine(string.Join(",", Header));
            var sb = new StringBuilder();
            for (int i = 0; i < Rows; i++)
            {
                sb.Clear();
                for (int j = 0; j < Columns.Length; j++)
                {
                    if (j > 0) sb.Append(',');
                    sb.Append(Columns[j][i].ToString("R", CultureInfo.InvariantCulture));
                }
                w.WriteLine(sb);
            }
        }
        catch (DirectoryNotFoundException) { throw new PinnException("cannot write file: directory not found", path); }
        catch (UnauthorizedAccessException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
        catch (IOException e) { throw new PinnException($"cannot write file: {e.Message}", path, inner: e); }
    }
}
