using System.Runtime.CompilerServices;

namespace Eddy.Runtime;

/// <summary>
/// Checkpoint storage could not be used (the store is unreachable, the bucket is missing, the credentials are refused);
/// <see cref="Option"/> names the option most likely at fault, so that the SQL layer can point at where it is set.
/// Not an <see cref="IOException"/>: a storage that cannot be read is not a damaged checkpoint, and restoring an
/// older one instead would be wrong.
/// </summary>
public sealed class CheckpointStorageException(string message, string option, Exception? inner = null)
    : InvalidOperationException(message, inner)
{
    public string Option { get; } = option;
}

/// <summary>
/// Where a checkpoint location leads: a local (or shared-volume) folder, <c>file:///folder</c>, or an S3-compatible
/// object store, <c>s3://bucket/prefix</c>. Any other scheme is refused (it would otherwise be taken for a relative
/// folder name).
/// </summary>
public static class CheckpointStorages
{
    public const string DirOption = "execution.checkpointing.dir";

    /// <summary>Whether <paramref name="location"/> is in an object store (no local folder, no file lock).</summary>
    public static bool IsRemote(string location) => location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks a location as <c>SET 'execution.checkpointing.dir'</c> does; throws <see cref="FormatException"/> with the reason.</summary>
    public static void Validate(string location)
    {
        if (IsRemote(location))
        {
            S3Location.Parse(location);
            return;
        }
        int scheme = location.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && !location.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"'{DirOption}' = '{location}': Eddy stores checkpoints in a folder (a local or shared "
                + $"volume) or in an S3-compatible store (s3://bucket/prefix); the scheme '{location[..scheme]}://' is not supported");
        }
    }

    /// <summary>
    /// The storage at <paramref name="location"/>. An object store is probed once (the bucket must exist and answer):
    /// throws <see cref="CheckpointStorageException"/> naming the option at fault, <see cref="FormatException"/> for a
    /// malformed location.
    /// </summary>
    public static ICheckpointStorage Open(string location, S3Settings? s3)
    {
        Validate(location);
        if (IsRemote(location)) return OpenS3(location, s3, probe: true);
        return new LocalCheckpointStorage(LocalPath(location));
    }

    /// <summary><paramref name="location"/> with path segments appended (<c>/</c>-separated in an object store).</summary>
    public static string Combine(string location, params string[] segments)
    {
        if (!IsRemote(location)) return Path.Combine([LocalPath(location), .. segments]);
        return location.TrimEnd('/') + string.Concat(segments.Select(s => "/" + s.Trim('/')));
    }

    /// <summary>
    /// Loads a checkpoint or savepoint (a <c>chk-&lt;id&gt;</c> folder, or the newest valid checkpoint of a checkpoints
    /// folder), local or in an object store (<c>--from-savepoint</c>, <c>execution.savepoint.path</c>).
    /// </summary>
    public static CheckpointData LoadRestorePath(string path, S3Settings? s3, Action<string> warn)
    {
        try
        {
            Validate(path);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"--from-savepoint: {e.Message.Replace($"'{DirOption}' = ", "", StringComparison.Ordinal)}", e);
        }
        if (IsRemote(path)) return LoadRemoteRestorePath(path, s3, warn);
        path = LocalPath(path);
        if (!Directory.Exists(path)) throw new InvalidOperationException($"--from-savepoint: {path} is not a folder");
        try
        {
            if (File.Exists(Path.Combine(path, "_metadata"))) return LocalCheckpointStorage.LoadFolder(path);
            return new LocalCheckpointStorage(path).LoadLatest(warn)
                ?? throw new InvalidOperationException($"--from-savepoint: {path} holds no valid checkpoint (no _metadata, no chk-<id> folder)");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException($"--from-savepoint: {path} cannot be restored: {e.Message}", e);
        }
    }

    /// <summary>Writes a savepoint as the folder <paramref name="folder"/> (local, or a prefix in an object store); returns where.</summary>
    public static string WriteSavepoint(string folder, CheckpointData checkpoint, S3Settings? s3)
    {
        if (!IsRemote(folder)) return LocalCheckpointStorage.WriteFolder(LocalPath(folder), checkpoint);
        return WriteRemoteSavepoint(folder, checkpoint, s3);
    }

    private static string LocalPath(string location) =>
        location.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(location).LocalPath : location;

    // The S3 code sits behind methods that are never inlined, so that the AWS assemblies load only for a job that
    // names an s3:// location.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ICheckpointStorage OpenS3(string location, S3Settings? s3, bool probe)
    {
        var storage = new S3CheckpointStorage(S3Location.Parse(location), s3 ?? new S3Settings());
        if (probe) storage.Probe();
        return storage;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CheckpointData LoadRemoteRestorePath(string path, S3Settings? s3, Action<string> warn)
    {
        var storage = new S3CheckpointStorage(S3Location.Parse(path), s3 ?? new S3Settings());
        storage.Probe();
        try
        {
            if (storage.HasMetadataHere()) return storage.LoadHere();
            return storage.LoadLatest(warn)
                ?? throw new InvalidOperationException($"--from-savepoint: {path} holds no valid checkpoint (no _metadata, no chk-<id>/_metadata)");
        }
        catch (InvalidDataException e)
        {
            throw new InvalidOperationException($"--from-savepoint: {path} cannot be restored: {e.Message}", e);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string WriteRemoteSavepoint(string folder, CheckpointData checkpoint, S3Settings? s3)
    {
        var storage = new S3CheckpointStorage(S3Location.Parse(folder), s3 ?? new S3Settings());
        return storage.WriteHere(checkpoint);
    }
}

/// <summary><c>s3://bucket/prefix</c>: a bucket and a key prefix without a trailing <c>/</c> (possibly empty).</summary>
public readonly record struct S3Location(string Bucket, string Prefix)
{
    /// <summary>Parses <c>s3://bucket[/prefix]</c>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static S3Location Parse(string location)
    {
        if (!CheckpointStorages.IsRemote(location))
            throw new FormatException($"'{CheckpointStorages.DirOption}' = '{location}' is not an s3:// location");
        string rest = location[5..];
        int slash = rest.IndexOf('/');
        string bucket = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (!ValidBucket(bucket))
        {
            throw new FormatException($"'{CheckpointStorages.DirOption}' = '{location}': '{bucket}' is not a bucket name "
                + "(3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit): write s3://bucket/prefix");
        }
        if (prefix.Contains("//", StringComparison.Ordinal))
            throw new FormatException($"'{CheckpointStorages.DirOption}' = '{location}': the prefix has an empty segment ('//')");
        return new S3Location(bucket, prefix);
    }

    private static bool ValidBucket(string name) =>
        name.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(name[0]) && char.IsAsciiLetterOrDigit(name[^1])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-');

    /// <summary>The key of <paramref name="name"/> under the prefix.</summary>
    public string Key(string name) => Prefix.Length == 0 ? name : Prefix + "/" + name;

    public override string ToString() => "s3://" + Bucket + (Prefix.Length == 0 ? "" : "/" + Prefix);
}
