using System.Text.Json;
using System.Text.Json.Nodes;

namespace Eddy.Cli;

/// <summary>
/// The files <c>eddy submit --udf a.dll</c> uploads: each named assembly, its <c>.deps.json</c>, and the assemblies
/// beside it that the <c>.deps.json</c> lists as its runtime dependencies (what its load context resolves on the
/// server). Eddy's own assemblies, which a library's build output copies, are left out: the server has them.
/// </summary>
internal static class UdfUploads
{
    public static JsonArray Collect(IReadOnlyList<string> assemblies)
    {
        var files = new Dictionary<string, (string Path, bool Load)>(StringComparer.OrdinalIgnoreCase);
        foreach (var given in assemblies)
        {
            string path = Path.GetFullPath(given);
            if (!File.Exists(path)) throw new ArgumentException($"no assembly at '{path}'");
            Add(files, path, load: true);
            string deps = Path.ChangeExtension(path, ".deps.json");
            if (!File.Exists(deps)) continue;
            Add(files, deps, load: false);
            foreach (var dependency in RuntimeDependencies(deps))
            {
                string beside = Path.Combine(Path.GetDirectoryName(path)!, dependency);
                if (File.Exists(beside) && !IsEddy(dependency)) Add(files, beside, load: false);
            }
        }
        var array = new JsonArray();
        foreach (var (name, (path, load)) in files)
            array.Add(new JsonObject { ["name"] = name, ["content"] = Convert.ToBase64String(File.ReadAllBytes(path)), ["load"] = load });
        return array;
    }

    private static bool IsEddy(string fileName) => fileName.StartsWith("Eddy.", StringComparison.OrdinalIgnoreCase);

    private static void Add(Dictionary<string, (string Path, bool Load)> files, string path, bool load)
    {
        string name = Path.GetFileName(path);
        if (files.TryGetValue(name, out var known))
        {
            if (!string.Equals(known.Path, path, StringComparison.Ordinal))
                throw new ArgumentException($"two files named '{name}' ('{known.Path}' and '{path}'): the server keeps one folder per submission");
            if (load && !known.Load) files[name] = (path, true);
            return;
        }
        files[name] = (path, load);
    }

    /// <summary>The file names of the runtime assemblies a .deps.json lists (the flat layout of a build output).</summary>
    private static IEnumerable<string> RuntimeDependencies(string depsJson)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(depsJson));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"'{depsJson}' is not valid JSON: {e.Message}");
        }
        if (root?["targets"] is not JsonObject targets) yield break;
        foreach (var (_, target) in targets)
        {
            if (target is not JsonObject libraries) continue;
            foreach (var (_, library) in libraries)
            {
                if (library?["runtime"] is not JsonObject runtime) continue;
                foreach (var (asset, _) in runtime) yield return Path.GetFileName(asset);
            }
        }
    }
}
