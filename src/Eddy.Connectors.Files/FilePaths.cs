using System.Text;
using System.Text.RegularExpressions;

namespace Eddy.Connectors;

/// <summary>Turns a path into the files it names: one file, every file under a folder, or the files a glob matches.</summary>
public static class FilePaths
{
    /// <summary>
    /// The files of <paramref name="path"/>, sorted by ordinal path. Folders are read recursively. As Flink, names
    /// that start with '.' or '_' are skipped under folders and globs: they are in-progress or marker files.
    /// Globs: <c>*</c> and <c>?</c> within one path segment, <c>**</c> across segments.
    /// </summary>
    public static IReadOnlyList<string> Resolve(string path)
    {
        if (path.IndexOfAny(['*', '?']) >= 0) return Glob(path);
        if (File.Exists(path)) return [Path.GetFullPath(path)];
        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => IsVisible(Path.GetRelativePath(path, f)))
                .Select(Path.GetFullPath)
                .Order(StringComparer.Ordinal)
                .ToArray();
        }
        throw new FileNotFoundException($"no such file or folder: {path}", path);
    }

    private static bool IsVisible(string relativePath) =>
        relativePath.Split('/', '\\').All(segment => segment.Length == 0 || (segment[0] != '.' && segment[0] != '_'));

    private static IReadOnlyList<string> Glob(string path)
    {
        string normalized = path.Replace('\\', '/');
        var segments = normalized.Split('/');
        int firstWild = Array.FindIndex(segments, s => s.IndexOfAny(['*', '?']) >= 0);
        string baseDir = string.Join('/', segments.Take(firstWild));
        if (baseDir.Length == 0) baseDir = normalized.StartsWith('/') ? "/" : ".";
        if (!Directory.Exists(baseDir)) return [];
        var pattern = ToRegex(string.Join('/', segments.Skip(firstWild)));
        return Directory.EnumerateFiles(baseDir, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(baseDir, f).Replace('\\', '/')))
            .Where(f => IsVisible(f.Relative) && pattern.IsMatch(f.Relative))
            .Select(f => Path.GetFullPath(f.Full))
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    internal static Regex ToRegex(string glob)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                bool slashFollows = i + 2 < glob.Length && glob[i + 2] == '/';
                // "**/" matches zero or more whole folders; a trailing "**" matches anything.
                sb.Append(slashFollows ? "(?:.*/)?" : ".*");
                i += slashFollows ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
