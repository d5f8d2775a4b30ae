using Pinn.Problems;
using YamlDotNet.RepresentationModel;

namespace Pinn.Config;

/// <summary>
/// Puts the config file and line on errors that name a config key (<see cref="PinnException.Key"/>) but are
/// raised where the YAML is out of reach — building the model or the trainer, reading a reference file,
/// resolving the device. The key is looked up in the config file itself; a key that is not in the file
/// (a default, or a <c>--set</c> override) leaves the error as it was, since no line of the file caused it.
/// </summary>
public static class ConfigLocation
{
    /// <summary>Runs <paramref name="body"/>; a keyed error without a location gets <paramref name="configFile"/>'s line for its key.</summary>
    public static T Guard<T>(string? configFile, Func<T> body)
    {
        try { return body(); }
        catch (PinnException e) when (e.File is null && e.Key is not null)
        {
            throw Locate(e, configFile);
        }
    }

    public static void Guard(string? configFile, Action body) => Guard(configFile, () => { body(); return 0; });

    /// <summary><paramref name="e"/> with the line of its key in <paramref name="configFile"/>, or <paramref name="e"/> itself.</summary>
    public static PinnException Locate(PinnException e, string? configFile)
    {
        if (e.File is not null || e.Key is null || configFile is null || !File.Exists(configFile)) return e;
        YamlDoc doc;
        try { doc = YamlDoc.Load(configFile); }
        catch (PinnException) { return e; }
        YamlNode node = doc.Root;
        YamlNode? at = null;
        foreach (var part in e.Key.Split('.'))
        {
            if (node is not YamlMappingNode m) break; // a list or a value stands where the key points inside it: its line
            var hit = m.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var v } && v == part);
            if (hit.Key is null) return e;
            at = hit.Key;
            node = hit.Value;
        }
        return at is null ? e : new PinnException(e.Message, doc.FileOf(at), (int)at.Start.Line, e) { Key = e.Key };
    }

    /// <summary>The file <see cref="RunConfigLoader.Load"/> reads for <paramref name="configOrProblem"/>, if any.</summary>
    internal static string? ConfigFile(string configOrProblem, IProblemCatalog catalog)
    {
        if (File.Exists(configOrProblem)) return configOrProblem;
        if (configOrProblem.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || configOrProblem.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            return null;
        return catalog.Create(configOrProblem) is not null ? catalog.DefaultConfigPath(configOrProblem) : null;
    }
}
