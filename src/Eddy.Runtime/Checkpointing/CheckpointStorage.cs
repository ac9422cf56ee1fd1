using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// Where completed checkpoints live. The local directory is the first implementation; an object store can follow
/// behind the same calls (write a whole checkpoint, list, load with validation, delete).
/// </summary>
public interface ICheckpointStorage
{
    /// <summary>Where the checkpoints are (a folder, a bucket prefix).</summary>
    string Location { get; }

    /// <summary>Writes a completed checkpoint so that it is either entirely there or not at all; returns its location.</summary>
    string Write(CheckpointData checkpoint);

    /// <summary>The ids of the completed checkpoints stored, oldest first (nothing validated).</summary>
    IReadOnlyList<long> List();

    /// <summary>Loads and validates checkpoint <paramref name="id"/>; throws <see cref="InvalidDataException"/> when it is damaged.</summary>
    CheckpointData Load(long id);

    /// <summary>Removes checkpoint <paramref name="id"/>.</summary>
    void Delete(long id);
}

public static class CheckpointStorageExtensions
{
    /// <summary>
    /// The newest checkpoint that loads and validates; a damaged newer one is skipped with a warning naming it and why.
    /// Null when there is none.
    /// </summary>
    public static CheckpointData? LoadLatest(this ICheckpointStorage storage, Action<string> warn)
    {
        var ids = storage.List();
        for (int i = ids.Count - 1; i >= 0; i--)
        {
            try
            {
                return storage.Load(ids[i]);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException)
            {
                warn($"warning: checkpoint {ids[i]} in {storage.Location} is damaged and is skipped ({e.Message})"
                    + (i > 0 ? $"; falling back to checkpoint {ids[i - 1]}" : "; no older checkpoint is left"));
            }
        }
        return null;
    }

    /// <summary>Deletes all but the newest <paramref name="retained"/> checkpoints.</summary>
    public static void Retain(this ICheckpointStorage storage, int retained)
    {
        var ids = storage.List();
        for (int i = 0; i < ids.Count - Math.Max(1, retained); i++) storage.Delete(ids[i]);
    }
}

/// <summary>Where a job keeps its data: <c>$EDDY_HOME/jobs/&lt;job&gt;</c>, else <c>$XDG_DATA_HOME/eddy/jobs/&lt;job&gt;</c>, else <c>~/.local/share/eddy/jobs/&lt;job&gt;</c>.</summary>
public static class JobDataPaths
{
    public static string JobFolder(string jobName, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string root;
        if (environment("EDDY_HOME") is { Length: > 0 } home) root = home;
        else if (environment("XDG_DATA_HOME") is { Length: > 0 } xdg) root = Path.Combine(xdg, "eddy");
        else root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "eddy");
        return Path.Combine(root, "jobs", SafeName(jobName));
    }

    /// <summary><c>execution.checkpointing.dir</c>, or the job folder's <c>checkpoints</c>.</summary>
    public static string CheckpointFolder(JobConfig config, string jobName) =>
        config.CheckpointDirectory ?? Path.Combine(JobFolder(jobName), "checkpoints");

    /// <summary>A job name as a single path segment: characters unsafe in file names become '_'.</summary>
    public static string SafeName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        var s = sb.ToString().Trim('.');
        return s.Length == 0 ? "job" : s;
    }
}

/// <summary>
/// Checkpoints in a local directory: one folder <c>chk-&lt;id&gt;</c> per checkpoint with a <c>_metadata</c> file and one
/// state file per operator subtask. Every file carries a format version and a SHA-256 of its content, and the
/// metadata records each state file's size and hash. A checkpoint is written under a temporary folder name and
/// renamed last, so a torn write never looks like a checkpoint.
/// </summary>
public sealed class LocalCheckpointStorage : ICheckpointStorage
{
    public const ushort FormatVersion = 1;
    private static readonly byte[] StateMagic = "EDDYCKST"u8.ToArray();
    private static readonly byte[] MetadataMagic = "EDDYCKMD"u8.ToArray();
    private const string MetadataFile = "_metadata";
    private const string InProgressMarker = ".inprogress-";
    private const int HashLength = 32;

    public LocalCheckpointStorage(string directory)
    {
        Location = Path.GetFullPath(directory);
    }

    public string Location { get; }

    public static string FolderName(long id) => "chk-" + id.ToString(CultureInfo.InvariantCulture);

    public IReadOnlyList<long> List()
    {
        if (!Directory.Exists(Location)) return [];
        var ids = new List<long>();
        foreach (var dir in Directory.EnumerateDirectories(Location, "chk-*"))
        {
            var name = Path.GetFileName(dir);
            if (long.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) ids.Add(id);
        }
        ids.Sort();
        return ids;
    }

    /// <summary>The highest checkpoint id ever used here, including in-progress leftovers (new ids continue after it).</summary>
    public long HighestId()
    {
        long max = List().DefaultIfEmpty(0).Max();
        if (!Directory.Exists(Location)) return max;
        foreach (var dir in Directory.EnumerateDirectories(Location, "chk-*" + InProgressMarker + "*"))
        {
            var name = Path.GetFileName(dir);
            int end = name.IndexOf(InProgressMarker, StringComparison.Ordinal);
            if (long.TryParse(name.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) max = Math.Max(max, id);
        }
        return max;
    }

    /// <summary>Removes folders of checkpoints whose writing never finished (a crash during the write).</summary>
    public void RemoveIncomplete()
    {
        if (!Directory.Exists(Location)) return;
        foreach (var dir in Directory.EnumerateDirectories(Location, "chk-*" + InProgressMarker + "*"))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Removes every checkpoint of this folder (<c>eddy run --fresh</c>).</summary>
    public void Clear()
    {
        RemoveIncomplete();
        foreach (var id in List()) Delete(id);
    }

    public string Write(CheckpointData checkpoint) => WriteFolder(Path.Combine(Location, FolderName(checkpoint.Id)), checkpoint);

    /// <summary>
    /// Writes a checkpoint as the folder <paramref name="final"/> (a <c>chk-&lt;id&gt;</c>, or a savepoint anywhere),
    /// through a temporary sibling renamed last; returns the folder.
    /// </summary>
    public static string WriteFolder(string final, CheckpointData checkpoint)
    {
        final = Path.GetFullPath(final);
        string parent = Path.GetDirectoryName(final) ?? throw new IOException($"checkpoint folder {final} has no parent folder");
        Directory.CreateDirectory(parent);
        if (Directory.Exists(final)) throw new IOException($"checkpoint folder {final} exists already");
        string temp = Path.Combine(parent, Path.GetFileName(final) + InProgressMarker + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(temp);
        try
        {
            var entries = new List<(OperatorSnapshot Op, List<(SubtaskSnapshot Sub, string File, long Size, byte[] Hash)> Files)>();
            for (int o = 0; o < checkpoint.Operators.Count; o++)
            {
                var op = checkpoint.Operators[o];
                var files = new List<(SubtaskSnapshot, string, long, byte[])>();
                foreach (var sub in op.Subtasks)
                {
                    string file = $"op-{o}-{sub.Subtask}.state";
                    var bytes = EncodeState(sub);
                    WriteDurably(Path.Combine(temp, file), bytes);
                    files.Add((sub, file, bytes.LongLength, SHA256.HashData(bytes)));
                }
                entries.Add((op, files));
            }
            WriteDurably(Path.Combine(temp, MetadataFile), EncodeMetadata(checkpoint, entries));
            Directory.Move(temp, final);
        }
        catch
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (IOException)
            {
            }
            throw;
        }
        return final;
    }

    public CheckpointData Load(long id) => LoadFolder(Path.Combine(Location, FolderName(id)));

    /// <summary>Loads and validates a checkpoint folder (a <c>chk-&lt;id&gt;</c> or a savepoint).</summary>
    public static CheckpointData LoadFolder(string folder)
    {
        string metaPath = Path.Combine(folder, MetadataFile);
        if (!File.Exists(metaPath)) throw new InvalidDataException($"{folder} has no {MetadataFile} file: not a checkpoint");
        var meta = ReadVerified(metaPath, MetadataMagic);
        using var r = new BinaryReader(new MemoryStream(meta));
        long id = r.ReadInt64();
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64());
        string jobName = r.ReadString();
        int maxParallelism = r.ReadInt32();
        int opCount = r.ReadInt32();
        var operators = new List<OperatorSnapshot>(opCount);
        for (int o = 0; o < opCount; o++)
        {
            string stateId = r.ReadString();
            int parallelism = r.ReadInt32();
            int subCount = r.ReadInt32();
            var subs = new List<SubtaskSnapshot>(subCount);
            for (int s = 0; s < subCount; s++)
            {
                int subtask = r.ReadInt32();
                int kgStart = r.ReadInt32();
                int kgEnd = r.ReadInt32();
                string file = r.ReadString();
                long size = r.ReadInt64();
                byte[] hash = r.ReadBytes(HashLength);
                string path = Path.Combine(folder, file);
                if (Path.GetFileName(file) != file) throw new InvalidDataException($"{metaPath}: bad file name '{file}'");
                if (!File.Exists(path)) throw new InvalidDataException($"{path} is missing (operator '{stateId}', subtask {subtask})");
                var bytes = File.ReadAllBytes(path);
                if (bytes.LongLength != size) throw new InvalidDataException($"{path} has {bytes.LongLength} bytes, the metadata says {size} (truncated?)");
                if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(hash)) throw new InvalidDataException($"{path}: checksum mismatch (corrupt)");
                subs.Add(DecodeState(path, Verify(path, bytes, StateMagic), subtask, kgStart, kgEnd));
            }
            operators.Add(new OperatorSnapshot(stateId, parallelism, subs));
        }
        return new CheckpointData(id, timestamp, jobName, maxParallelism, operators) { Path = Path.GetFullPath(folder) };
    }

    public void Delete(long id)
    {
        string dir = Path.Combine(Location, FolderName(id));
        if (!Directory.Exists(dir)) return;
        // Renamed first, so that a crash in the middle of the delete leaves no half checkpoint under a valid name.
        string doomed = Path.Combine(Location, FolderName(id) + InProgressMarker + "deleting");
        if (Directory.Exists(doomed)) Directory.Delete(doomed, recursive: true);
        Directory.Move(dir, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    private static void WriteDurably(string path, byte[] bytes)
    {
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        f.Write(bytes);
        f.Flush(flushToDisk: true);
    }

    // A file: magic (8 bytes), format version (u16), payload length (i64), payload, SHA-256 of everything before it.
    private static byte[] Frame(byte[] magic, byte[] payload)
    {
        var ms = new MemoryStream(payload.Length + 50);
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(magic);
            w.Write(FormatVersion);
            w.Write(payload.LongLength);
            w.Write(payload);
        }
        var hash = SHA256.HashData(ms.GetBuffer().AsSpan(0, (int)ms.Length));
        ms.Write(hash);
        return ms.ToArray();
    }

    private static byte[] ReadVerified(string path, byte[] magic) => Verify(path, File.ReadAllBytes(path), magic);

    private static byte[] Verify(string path, byte[] bytes, byte[] magic)
    {
        int header = magic.Length + 2 + 8;
        if (bytes.Length < header + HashLength) throw new InvalidDataException($"{path} is truncated ({bytes.Length} bytes)");
        if (!bytes.AsSpan(0, magic.Length).SequenceEqual(magic)) throw new InvalidDataException($"{path} is not an Eddy checkpoint file");
        ushort version = BitConverter.ToUInt16(bytes, magic.Length);
        if (version != FormatVersion) throw new InvalidDataException($"{path} has format version {version}; this Eddy reads version {FormatVersion}");
        long length = BitConverter.ToInt64(bytes, magic.Length + 2);
        if (length != bytes.Length - header - HashLength) throw new InvalidDataException($"{path} is truncated or has trailing bytes");
        var expected = bytes.AsSpan(bytes.Length - HashLength);
        if (!SHA256.HashData(bytes.AsSpan(0, bytes.Length - HashLength)).AsSpan().SequenceEqual(expected))
            throw new InvalidDataException($"{path}: checksum mismatch (corrupt)");
        return bytes.AsSpan(header, (int)length).ToArray();
    }

    private static byte[] EncodeState(SubtaskSnapshot sub)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(sub.OperatorState.Length);
            w.Write(sub.OperatorState);
            w.Write(sub.KeyGroups.Count);
            foreach (var (kg, bytes) in sub.KeyGroups.OrderBy(k => k.Key))
            {
                w.Write(kg);
                w.Write(bytes.Length);
                w.Write(bytes);
            }
        }
        return Frame(StateMagic, ms.ToArray());
    }

    private static SubtaskSnapshot DecodeState(string path, byte[] payload, int subtask, int kgStart, int kgEnd)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(payload));
            var op = r.ReadBytes(r.ReadInt32());
            int n = r.ReadInt32();
            var kgs = new Dictionary<int, byte[]>(n);
            for (int i = 0; i < n; i++)
            {
                int kg = r.ReadInt32();
                kgs[kg] = r.ReadBytes(r.ReadInt32());
            }
            return new SubtaskSnapshot(subtask, kgStart, kgEnd, op, kgs);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: state ends early");
        }
    }

    private static byte[] EncodeMetadata(CheckpointData c, List<(OperatorSnapshot Op, List<(SubtaskSnapshot Sub, string File, long Size, byte[] Hash)> Files)> entries)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(c.Id);
            w.Write(c.Timestamp.ToUnixTimeMilliseconds());
            w.Write(c.JobName);
            w.Write(c.MaxParallelism);
            w.Write(entries.Count);
            foreach (var (op, files) in entries)
            {
                w.Write(op.StateId);
                w.Write(op.Parallelism);
                w.Write(files.Count);
                foreach (var (sub, file, size, hash) in files)
                {
                    w.Write(sub.Subtask);
                    w.Write(sub.KeyGroupStart);
                    w.Write(sub.KeyGroupEnd);
                    w.Write(file);
                    w.Write(size);
                    w.Write(hash);
                }
            }
        }
        return Frame(MetadataMagic, ms.ToArray());
    }
}
