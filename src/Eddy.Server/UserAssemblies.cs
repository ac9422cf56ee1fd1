namespace Eddy.Server;

/// <summary>
/// The function assemblies a submission uploaded (<c>eddy submit --udf</c>): written into a folder of their own for the
/// submission (so that each assembly's dependencies, uploaded with it, resolve from beside it), added to the jobs'
/// session, and deleted once the last of its jobs has ended and the assemblies are unloaded.
/// </summary>
public sealed class UserAssemblies
{
    private UserAssemblies(string? folder, IReadOnlyList<string> assemblies)
    {
        Folder = folder;
        Assemblies = assemblies;
    }

    /// <summary>The submission's own folder of uploaded files; null for assemblies used where they are (<c>eddy run --ui --udf</c>).</summary>
    public string? Folder { get; }

    /// <summary>Assemblies on this machine, used in place (nothing is copied or deleted).</summary>
    public static UserAssemblies InPlace(IReadOnlyList<string> paths) => new(null, paths.Select(Path.GetFullPath).ToList());

    /// <summary>The paths of the named assemblies (their dependencies lie beside them, not added as jars).</summary>
    public IReadOnlyList<string> Assemblies { get; }

    /// <summary>Writes the uploaded files into a new folder; a name with a folder part or outside [A-Za-z0-9._-] is refused.</summary>
    public static UserAssemblies Save(IReadOnlyList<UploadedFile> files)
    {
        foreach (var f in files)
        {
            if (string.IsNullOrEmpty(f.Name) || f.Name != Path.GetFileName(f.Name) || f.Name.StartsWith('.')
                || f.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
                throw new SubmissionException($"uploaded file name '{f.Name}' is not a plain file name");
            if (f.Content is null) throw new SubmissionException($"uploaded file '{f.Name}' has no content");
        }
        if (files.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new SubmissionException($"uploaded file name '{twice.Key}' is given twice");
        string folder = Path.Combine(Path.GetTempPath(), "eddy-udf", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        foreach (var f in files) File.WriteAllBytes(Path.Combine(folder, f.Name), f.Content!);
        return new UserAssemblies(folder, files.Where(f => f.Load).Select(f => Path.Combine(folder, f.Name)).ToList());
    }

    /// <summary>Removes the folder (once the assemblies are unloaded); a failure leaves it to the temp folder's cleanup.</summary>
    public void Delete()
    {
        if (Folder is null) return;
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>
/// One uploaded file of POST /jobs (<c>"udfs": [{"name": ..., "content": base64, "load": true}]</c>): an assembly to
/// load (<c>load</c>) or a file it needs beside it (a dependency, its <c>.deps.json</c>).
/// </summary>
public sealed record UploadedFile(string Name, byte[]? Content, bool Load);
