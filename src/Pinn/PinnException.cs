namespace Pinn;

/// <summary>
/// An error the user can act on: bad input, a missing file, a diverging run. The CLI prints
/// <see cref="Exception.Message"/> as one line (no stack trace) and exits non-zero.
/// When the error comes from a file, <see cref="File"/> and <see cref="Line"/> say where.
/// </summary>
public class PinnException : Exception
{
    public string? File { get; }
    public int? Line { get; }

    /// <summary>
    /// The config key the error is about (<c>model.layers</c>, <c>training.batch.pdee</c>), set where an
    /// option is rejected far from the YAML (model construction, the trainer, a reference file), so
    /// <see cref="Config.ConfigLocation"/> can add the config file and line.
    /// </summary>
    public string? Key { get; init; }

    public PinnException(string message, string? file = null, int? line = null, Exception? inner = null)
        : base(Format(message, file, line), inner)
    {
        File = file;
        Line = line;
    }

    static string Format(string message, string? file, int? line) =>
        file is null ? message : line is null ? $"{file}: {message}" : $"{file}:{line}: {message}";
}
