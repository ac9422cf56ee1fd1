using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Eddy.Runtime;

/// <summary>
/// Where completed checkpoints live: a local (or shared-volume) folder (<see cref="LocalCheckpointStorage"/>) or an
/// S3-compatible object store (<see cref="S3CheckpointStorage"/>); <see cref="CheckpointStorages.Open"/> picks one
/// from the location. Each writes a checkpoint so that it is complete or absent, never half there.
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

    /// <summary>The highest checkpoint id ever used here, including incomplete leftovers (new ids continue after it).</summary>
    long HighestId();

    /// <summary>Removes what checkpoints whose writing never finished left behind (a crash during the write).</summary>
    void RemoveIncomplete();

    /// <summary>Removes every checkpoint (<c>eddy run --fresh</c>).</summary>
    void Clear();
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

    /// <summary>
    /// The local folder whose lock (<see cref="JobNameLock"/>) makes one live run own the job's checkpoints: the
    /// checkpoint folder itself, or the job folder when checkpoints go to an object store (a bucket has no file lock,
    /// so the ownership there holds among the runs of one machine only).
    /// </summary>
    public static string LockFolder(JobConfig config, string jobName)
    {
        string checkpoints = CheckpointFolder(config, jobName);
        if (CheckpointStorages.IsRemote(checkpoints)) return Path.GetFullPath(JobFolder(jobName));
        return Path.GetFullPath(checkpoints.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(checkpoints).LocalPath : checkpoints);
    }

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
                    var (size, hash) = WriteStateFile(Path.Combine(temp, file), sub);
                    files.Add((sub, file, size, hash));
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
                subs.Add(ReadStateFile(path, size, hash, subtask, kgStart, kgEnd));
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

    // State files are streamed, not built in memory: a subtask's state can be a gigabyte. Both hashes (the frame's
    // trailer, and the whole file's for the metadata) are computed while the bytes go by.

    /// <summary>Writes a state file (the <see cref="Frame"/> layout) and flushes it to disk; returns its size and SHA-256.</summary>
    private static (long Size, byte[] Hash) WriteStateFile(string path, SubtaskSnapshot sub)
    {
        long payload = 4 + sub.OperatorState.LongLength + 4;
        var groups = sub.KeyGroups.OrderBy(k => k.Key).ToList();
        foreach (var (_, bytes) in groups) payload += 8 + bytes.LongLength;
        // The buffer is no larger than the file: a fixed 1 MiB one was a large-object allocation per state file, and a
        // worker checkpointing 24 small partition tasks a second spent its idle CPU in gen-2 collections of them.
        int buffer = (int)Math.Min(1 << 20, 64 + payload);
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: buffer);
        using var frameHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> small = stackalloc byte[8];
        void Put(ReadOnlySpan<byte> bytes)
        {
            f.Write(bytes);
            HashBoth(frameHash, fileHash, bytes);
        }
        void PutInt(Span<byte> buffer, int value)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, value);
            Put(buffer[..4]);
        }
        Put(StateMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(small, FormatVersion);
        Put(small[..2]);
        BinaryPrimitives.WriteInt64LittleEndian(small, payload);
        Put(small);
        PutInt(small, sub.OperatorState.Length);
        Put(sub.OperatorState);
        PutInt(small, groups.Count);
        foreach (var (kg, bytes) in groups)
        {
            PutInt(small, kg);
            PutInt(small, bytes.Length);
            Put(bytes);
        }
        var trailer = frameHash.GetHashAndReset();
        f.Write(trailer);
        fileHash.AppendData(trailer);
        f.Flush(flushToDisk: true);
        return (f.Length, fileHash.GetHashAndReset());
    }

    /// <summary>Feeds both hashes; a large block is hashed on two cores at once.</summary>
    private static void HashBoth(IncrementalHash first, IncrementalHash second, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 1 << 20)
        {
            first.AppendData(bytes);
            second.AppendData(bytes);
            return;
        }
        unsafe
        {
            fixed (byte* p = bytes)
            {
                byte* at = p;
                int length = bytes.Length;
                var other = Task.Run(() => second.AppendData(new ReadOnlySpan<byte>(at, length)));
                first.AppendData(bytes);
                other.GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>
    /// Reads a state file in one pass with large reads, verifying as it goes: its size, magic, version and length
    /// against the metadata, every length inside it against what is left, then the frame's SHA-256 and the file's
    /// SHA-256 recorded in the metadata.
    /// </summary>
    private static SubtaskSnapshot ReadStateFile(string path, long expectedSize, byte[] expectedHash, int subtask, int kgStart, int kgEnd)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: (int)Math.Clamp(expectedSize, 1, 1 << 20));
        long size = f.Length;
        if (size != expectedSize) throw new InvalidDataException($"{path} has {size} bytes, the metadata says {expectedSize} (truncated?)");
        int header = StateMagic.Length + 2 + 8;
        if (size < header + HashLength) throw new InvalidDataException($"{path} is truncated ({size} bytes)");
        using var frameHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long left = size - HashLength;
        byte[] Take(long count)
        {
            if (count < 0 || count > left || count > Array.MaxLength) throw new InvalidDataException($"{path}: state ends early or is corrupt");
            var bytes = GC.AllocateUninitializedArray<byte>((int)count);
            f.ReadExactly(bytes);
            left -= count;
            HashBoth(frameHash, fileHash, bytes);
            return bytes;
        }
        int TakeInt() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        var head = Take(header);
        if (!head.AsSpan(0, StateMagic.Length).SequenceEqual(StateMagic)) throw new InvalidDataException($"{path} is not an Eddy checkpoint file");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(head.AsSpan(StateMagic.Length));
        if (version != FormatVersion) throw new InvalidDataException($"{path} has format version {version}; this Eddy reads version {FormatVersion}");
        long length = BinaryPrimitives.ReadInt64LittleEndian(head.AsSpan(StateMagic.Length + 2));
        if (length != size - header - HashLength) throw new InvalidDataException($"{path} is truncated or has trailing bytes");
        var op = Take(TakeInt());
        int n = TakeInt();
        if (n < 0) throw new InvalidDataException($"{path}: state ends early or is corrupt");
        var kgs = new Dictionary<int, byte[]>(Math.Min(n, 1 << 16));
        for (int i = 0; i < n; i++)
        {
            int kg = TakeInt();
            kgs[kg] = Take(TakeInt());
        }
        if (left != 0) throw new InvalidDataException($"{path} has trailing bytes");
        var trailer = new byte[HashLength];
        f.ReadExactly(trailer);
        if (!frameHash.GetHashAndReset().AsSpan().SequenceEqual(trailer)) throw new InvalidDataException($"{path}: checksum mismatch (corrupt)");
        fileHash.AppendData(trailer);
        if (!fileHash.GetHashAndReset().AsSpan().SequenceEqual(expectedHash)) throw new InvalidDataException($"{path}: checksum mismatch (corrupt)");
        return new SubtaskSnapshot(subtask, kgStart, kgEnd, op, kgs);
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
