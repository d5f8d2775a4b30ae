namespace Pinn.Tests;

static class TestPaths
{
    /// <summary>The repository root (found from the test binary's location).</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Pinn.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    public static string Problem(string relative) => Path.Combine(Root, "problems", relative);

    /// <summary>A file under tests/Pinn.Tests/data, as copied next to the test binary.</summary>
    public static string Data(string relative) => Path.Combine(AppContext.BaseDirectory, "data", relative);

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "pinn-tests-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }
}
