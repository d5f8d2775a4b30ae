using Pinn.References;

namespace Pinn.Tests.References;

public sealed class CsvTableTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "pinn-csv-tests-" + Guid.NewGuid().ToString("N"));

    public CsvTableTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    string WriteText(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void Write_then_read_round_trips_values_exactly()
    {
        double[] x = [0.1, 1.0 / 3.0, -2.5e-300, double.Epsilon, 1e308, -0.0];
        double[] u = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, Math.PI, 0, 123456789.123456789];
        var table = new CsvTable(["x", "u"], [x, u]);
        var path = Path.Combine(_dir, "rt.csv");

        table.Write(path);
        var back = CsvTable.Read(path);

        back.Header.Should().Equal("x", "u");
        back.Rows.Should().Be(6);
        back.Column("x").Select(BitConverter.DoubleToInt64Bits).Should().Equal(x.Select(BitConverter.DoubleToInt64Bits));
        back.Column("u").Select(BitConverter.DoubleToInt64Bits).Should().Equal(u.Select(BitConverter.DoubleToInt64Bits));
        back.Columns[1][3].Should().Be(Math.PI);
    }

    [Fact]
    public void Write_produces_header_then_invariant_culture_rows()
    {
        var path = Path.Combine(_dir, "fmt.csv");
        var saved = Thread.CurrentThread.CurrentCulture;
        try
        {
            var decimalComma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
            decimalComma.NumberFormat.NumberDecimalSeparator = ",";
            decimalComma.NumberFormat.NegativeSign = "\u2212";
            Thread.CurrentThread.CurrentCulture = decimalComma;
            new CsvTable(["x", "t"], [[0.5, 1.25], [2, -3]]).Write(path);
        }
        finally { Thread.CurrentThread.CurrentCulture = saved; }

        File.ReadAllLines(path).Should().Equal("x,t", "0.5,2", "1.25,-3");
    }

    [Fact]
    public void Read_skips_comments_and_blank_lines_and_trims_whitespace()
    {
        var path = WriteText("c.csv", "# produced by a solver\n\n  x , t ,u\r\n# a comment row\n 0.0 ,  1 , 1e-3\n\n1.5,2.5,  -4\n   \n");

        var t = CsvTable.Read(path);

        t.Header.Should().Equal("x", "t", "u");
        t.Rows.Should().Be(2);
        t.Column("x").Should().Equal(0.0, 1.5);
        t.Column("t").Should().Equal(1.0, 2.5);
        t.Column("u").Should().Equal(1e-3, -4.0);
    }

    [Fact]
    public void Read_accepts_nan_and_inf_spellings()
    {
        var path = WriteText("n.csv", "a,b,c\nnan,inf,-inf\nNaN,Infinity,-Infinity\n");

        var t = CsvTable.Read(path);

        t.Column("a").Should().OnlyContain(v => double.IsNaN(v));
        t.Column("b").Should().OnlyContain(v => double.IsPositiveInfinity(v));
        t.Column("c").Should().OnlyContain(v => double.IsNegativeInfinity(v));
    }

    [Fact]
    public void Header_only_file_gives_an_empty_table()
    {
        var t = CsvTable.Read(WriteText("h.csv", "x,y\n"));

        t.Rows.Should().Be(0);
        t.Column("y").Should().BeEmpty();
    }

    [Fact]
    public void Bad_cell_reports_file_line_column_and_text()
    {
        var path = WriteText("bad.csv", "# comment\nx,u\n1,2\n\n3,abc\n");

        var act = () => CsvTable.Read(path);

        var ex = act.Should().Throw<PinnException>().Which;
        ex.Line.Should().Be(5);
        ex.File.Should().Be(path);
        ex.Message.Should().Contain("bad.csv:5:").And.Contain("'u'").And.Contain("'abc'");
    }

    [Fact]
    public void Wrong_number_of_cells_reports_line()
    {
        var path = WriteText("short.csv", "x,y,z\n1,2,3\n4,5\n");

        var act = () => CsvTable.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*short.csv:3:*expected 3 values*found 2*");
    }

    [Fact]
    public void Empty_cell_is_an_error()
    {
        var path = WriteText("empty-cell.csv", "x,y\n1,\n");

        var act = () => CsvTable.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*empty-cell.csv:2:*empty value*'y'*");
    }

    [Fact]
    public void Decimal_comma_is_not_accepted()
    {
        var path = WriteText("comma.csv", "x\n1;5\n");

        var act = () => CsvTable.Read(path);

        act.Should().Throw<PinnException>().WithMessage("*comma.csv:2:*'1;5'*");
    }

    [Fact]
    public void Missing_column_lists_available_names()
    {
        var path = WriteText("m.csv", "x,t,u_ref\n1,2,3\n");
        var t = CsvTable.Read(path);

        var act = () => t.Column("u");

        act.Should().Throw<PinnException>().WithMessage("*m.csv*no column 'u'*x, t, u_ref*");
    }

    [Fact]
    public void Empty_and_missing_files_raise_PinnException()
    {
        var empty = WriteText("nothing.csv", "# only a comment\n\n");

        ((Action)(() => CsvTable.Read(empty))).Should().Throw<PinnException>().WithMessage("*nothing.csv*no header*");
        ((Action)(() => CsvTable.Read(Path.Combine(_dir, "absent.csv")))).Should().Throw<PinnException>().WithMessage("*absent.csv*not found*");
    }

    [Fact]
    public void Duplicate_header_names_are_rejected()
    {
        var path = WriteText("dup.csv", "x,x\n1,2\n");

        ((Action)(() => CsvTable.Read(path))).Should().Throw<PinnException>().WithMessage("*dup.csv:1:*duplicate*'x'*");
    }

    [Fact]
    public void Constructor_validates_columns()
    {
        ((Action)(() => new CsvTable(["a", "b"], [[1.0]]))).Should().Throw<PinnException>().WithMessage("*2 column names*1 columns*");
        ((Action)(() => new CsvTable(["a", "b"], [[1.0], [1.0, 2.0]]))).Should().Throw<PinnException>().WithMessage("*'b' has 2 values*");

        var t = new CsvTable(["a", "b"], [[1.0, 2.0], [3.0, 4.0]]);
        t.Rows.Should().Be(2);
        t.Column("b").Should().Equal(3.0, 4.0);
    }
}
