using Pinn.Cli;

namespace Pinn.Tests;

/// <summary>Inputs and a CLI runner shared by the config, bad-input and CLI tests.</summary>
static class TestInputs
{
    /// <summary>The heat equation defined inline in YAML (equation on line 8, conditions on lines 10 and 11).</summary>
    public const string InlineHeat = """
        problem:
          name: heat
          coordinates: {x: [0, 1]}
          time: {t: [0, 1]}
          fields: [u]
          parameters: {alpha: 0.1}
          equations:
            - "u_t = alpha*u_xx"
          conditions:
            - {type: initial, equation: "u = sin(pi*x)"}
            - {type: dirichlet, on: boundary, equation: "u = 0"}
        """;

    /// <summary>Runs the <c>pinn</c> command in-process and returns its exit code and output.</summary>
    public static (int code, string stdout, string stderr) Pinn(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = PinnCommand.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
