using System.Globalization;
using System.Text;
using Eddy.Runtime;

namespace Eddy.Connectors;

/// <summary>
/// Flink's partitioned filesystem sink (<c>PARTITIONED BY (k, ...)</c>) for JSON lines and CSV: rows go to part files
/// under Hive-style folders <c>k=v/...</c> (values escaped as Flink's <c>PartitionPathUtils</c>: <c>:</c> becomes
/// <c>%3A</c>; NULL or empty is <c>partition.default-name</c>) without the partition columns, which the folders hold.
/// Part files roll by <c>sink.rolling-policy.*</c> and at every checkpoint, are written hidden, and become visible when
/// the checkpoint that covers them completes (exactly-once, as Flink's FileSink) or at the end of input. Partitions
/// are committed by <c>sink.partition-commit.trigger</c> — process-time (creation time + delay) or partition-time
/// (watermark &gt; partition time + delay) — once every subtask's files of the checkpoint are visible, and all at the
/// end of input; the policy <c>success-file</c> writes <c>_SUCCESS</c> into a committed partition's folder.
/// </summary>
public sealed class PartitionedFileSink : Sink<Row>
{
    private readonly object gate = new();
    private PartitionCommitter committer;

    public PartitionedFileSink(FileConnectorOptions options, Schema schema, IReadOnlyList<string> partitionKeys)
    {
        Options = options;
        Schema = schema;
        PartitionColumns = partitionKeys.Select(k => Column(schema, k)).ToArray();
        options.CheckColumns(schema.Columns.Where((_, i) => !PartitionColumns.Contains(i)));
        if (PartitionColumns.Length == schema.Count)
            throw new ArgumentException("filesystem option 'PARTITIONED BY': at least one column must not be a partition column");
        committer = new PartitionCommitter(this, 0);
    }

    private static int Column(Schema schema, string name)
    {
        for (int i = 0; i < schema.Count; i++)
            if (string.Equals(schema[i].Name, name, StringComparison.Ordinal)) return i;
        throw new ArgumentException($"filesystem option 'PARTITIONED BY': no column '{name}'");
    }

    public FileConnectorOptions Options { get; }

    public Schema Schema { get; }

    public int[] PartitionColumns { get; }

    public override SinkWriter<Row> CreateWriter(SinkWriterContext context)
    {
        PartitionCommitter shared;
        lock (gate)
        {
            // A subtask made again is a restart of the job: the commits start over from what the checkpoint holds.
            if (!committer.Register(context.SubtaskIndex, context.Parallelism)) committer = new PartitionCommitter(this, context.Parallelism);
            committer.Register(context.SubtaskIndex, context.Parallelism);
            shared = committer;
        }
        var writer = new Writer(this, shared, context);
        if (context.Restored is { } restored) writer.Restore(restored);
        return writer;
    }

    /// <summary>The folder of a partition, relative to the table path: <c>k1=v1/k2=v2</c>.</summary>
    public string PartitionFolder(IReadOnlyList<string?> values)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < PartitionColumns.Length; i++)
        {
            if (i > 0) sb.Append('/');
            sb.Append(Escape(Schema[PartitionColumns[i]].Name)).Append('=');
            string? v = values[i];
            sb.Append(string.IsNullOrEmpty(v) ? Escape(Options.Commit.DefaultPartitionName) : Escape(v));
        }
        return sb.ToString();
    }

    /// <summary>Flink's (and Hive's) escaping of partition names and values in paths: <c>%XX</c> for the characters a path cannot hold.</summary>
    public static string Escape(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool escape = c < 0x20 || c == 0x7F || c is '"' or '#' or '%' or '\'' or '*' or '/' or ':' or '=' or '?' or '\\' or '{' or '[' or ']' or '^';
            if (escape)
            {
                sb ??= new StringBuilder(text, 0, i, text.Length + 8);
                sb.Append('%').Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
            }
            else sb?.Append(c);
        }
        return sb?.ToString() ?? text;
    }

    /// <summary>
    /// The time of a partition as Flink's default extractor reads it: the pattern (<c>$dt $hm:00</c>) with the partition
    /// values put in, or the first value, parsed by the formatter (default <c>yyyy-MM-dd HH:mm:ss</c>, or a date).
    /// </summary>
    public DateTime PartitionTime(IReadOnlyList<string?> values)
    {
        var commit = Options.Commit;
        string text;
        if (commit.TimestampPattern is { } pattern)
        {
            text = pattern;
            // Longer names first, so that $dt does not replace the start of $dth.
            foreach (var i in Enumerable.Range(0, PartitionColumns.Length).OrderByDescending(i => Schema[PartitionColumns[i]].Name.Length))
                text = text.Replace("$" + Schema[PartitionColumns[i]].Name, values[i] ?? "", StringComparison.Ordinal);
        }
        else text = values[0] ?? "";
        string[] formats = commit.TimestampFormatter is { } f ? [f] : ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd"];
        if (DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            return DateTime.SpecifyKind(time, DateTimeKind.Utc);
        throw new InvalidDataException($"partition time of '{PartitionFolder(values)}': '{text}' does not match "
            + $"'{commit.TimestampFormatter ?? "yyyy-MM-dd HH:mm:ss"}' (partition.time-extractor.timestamp-pattern / -formatter)");
    }

    private sealed record PendingPart(long Checkpoint, string Pending, string Final);

    private sealed class OpenPart(string folder, string final, string inProgress, FileStream file, long created)
    {
        public string Folder { get; } = folder;
        public string Final { get; } = final;
        public string InProgress { get; } = inProgress;
        public FileStream File { get; } = file;
        public long Created { get; } = created;
        public long LastWrite { get; set; } = created;

        /// <summary>The part's encoder (parquet, avro), which buffers a row group or block before it reaches the file.</summary>
        public IFilePartWriter? Encoder { get; set; }
    }

    private sealed class Writer : SinkWriter<Row>
    {
        private const long NotCheckpointed = long.MaxValue;

        private readonly PartitionedFileSink sink;
        private readonly PartitionCommitter committer;
        private readonly int subtask;
        private readonly TimeProvider clock;
        private readonly PartFormatter formatter;
        private readonly int[] dataFields;
        private readonly Dictionary<string, OpenPart> open = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string?[]> touched = new(StringComparer.Ordinal);
        private readonly List<PendingPart> pending = [];
        private readonly string?[] values;
        private readonly object?[] lastValues;
        private OpenPart? last;
        private int partNumber;
        private long watermark = long.MinValue;
        private long nextCheck;

        public Writer(PartitionedFileSink sink, PartitionCommitter committer, SinkWriterContext context)
        {
            this.sink = sink;
            this.committer = committer;
            subtask = context.SubtaskIndex;
            clock = context.Clock;
            var columns = sink.Schema.Columns.ToArray();
            dataFields = Enumerable.Range(0, columns.Length).Where(i => !sink.PartitionColumns.Contains(i)).ToArray();
            formatter = new PartFormatter(sink.Options, columns, dataFields);
            values = new string?[sink.PartitionColumns.Length];
            lastValues = new object?[sink.PartitionColumns.Length];
            nextCheck = Now + (long)sink.Options.Rolling.CheckInterval.TotalMilliseconds;
        }

        private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

        public void Restore(RestoredState restored)
        {
            if (subtask >= restored.SubtaskStates.Count || restored.SubtaskStates[subtask].Length == 0) return;
            using var r = new BinaryReader(new MemoryStream(restored.SubtaskStates[subtask]));
            partNumber = r.ReadInt32();
            int n = r.ReadInt32();
            for (int i = 0; i < n; i++)
            {
                long id = r.ReadInt64();
                string pendingPath = r.ReadString(), final = r.ReadString();
                if (id <= restored.CheckpointId) Publish(pendingPath, final);
            }
            int partitions = r.ReadInt32();
            for (int i = 0; i < partitions; i++)
            {
                string folder = r.ReadString();
                long created = r.ReadInt64();
                var v = new string?[r.ReadInt32()];
                for (int k = 0; k < v.Length; k++) v[k] = r.ReadBoolean() ? r.ReadString() : null;
                committer.Restore(folder, v, created);
            }
        }

        private static void Publish(string pendingPath, string final)
        {
            // Idempotent: after a crash between the rename and the next checkpoint the pending file is gone already.
            if (File.Exists(pendingPath)) File.Move(pendingPath, final, overwrite: true);
        }

        public override void Write(Batch<Row> batch)
        {
            long now = Now;
            if (now >= nextCheck) RollByTime(now);
            var keys = sink.PartitionColumns;
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = batch.KindAt(i);
                var row = batch.Values[i];
                if (kind != RowKind.Insert)
                    throw new NotSupportedException($"the file sink takes inserts only (+I), got {kind.ShortString()}{row.ToString()[2..]}");
                var part = last;
                if (part is null || !SamePartition(row, keys)) part = PartFor(row, keys, now);
                if (part.Encoder is { } encoder) encoder.Write(row);
                else
                {
                    formatter.Write(row);
                    part.File.Write(formatter.Buffer.WrittenSpan);
                    formatter.Buffer.ResetWrittenCount();
                }
                part.LastWrite = now;
                if (part.File.Position + (part.Encoder?.Buffered ?? 0) >= sink.Options.Rolling.FileSize) Roll(part);
            }
        }

        private bool SamePartition(Row row, int[] keys)
        {
            for (int k = 0; k < keys.Length; k++)
                if (!Equals(row[keys[k]], lastValues[k])) return false;
            return true;
        }

        private OpenPart PartFor(Row row, int[] keys, long now)
        {
            for (int k = 0; k < keys.Length; k++)
            {
                object? v = row[keys[k]];
                lastValues[k] = v;
                values[k] = v is null ? null : TextValues.Format(v, sink.Schema[keys[k]].Type, sink.Options.CsvArrayDelimiter);
            }
            string folder = sink.PartitionFolder(values);
            if (!touched.ContainsKey(folder))
            {
                touched[folder] = (string?[])values.Clone();
                committer.Created(folder, now);
            }
            if (!open.TryGetValue(folder, out var part))
            {
                string dir = Path.Combine(sink.Options.Path, folder);
                Directory.CreateDirectory(dir);
                string final = Path.Combine(dir, $"part-{subtask}-{partNumber++}.{sink.Options.Extension}");
                string inProgress = Path.Combine(dir, "." + Path.GetFileName(final) + ".inprogress");
                var file = new FileStream(inProgress, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                part = new OpenPart(folder, final, inProgress, file, now);
                if (sink.Options.Plugged is { } plugged) part.Encoder = plugged.CreateWriter(sink.Options, sink.Schema.Columns.ToArray(), dataFields, file);
                else if (sink.Options.Format == FileFormat.Parquet) part.Encoder = new ParquetPartEncoder(sink.Options, sink.Schema.Columns.ToArray(), dataFields, file);
                open[folder] = part;
                if (sink.Options.Format == FileFormat.Csv && sink.Options.CsvHeader)
                {
                    formatter.WriteHeader();
                    file.Write(formatter.Buffer.WrittenSpan);
                    formatter.Buffer.ResetWrittenCount();
                }
            }
            last = part;
            return part;
        }

        private void RollByTime(long now)
        {
            var rolling = sink.Options.Rolling;
            foreach (var part in open.Values.ToList())
            {
                if (now - part.Created >= rolling.RolloverInterval.TotalMilliseconds || now - part.LastWrite >= rolling.InactivityInterval.TotalMilliseconds)
                    Roll(part);
            }
            nextCheck = now + (long)rolling.CheckInterval.TotalMilliseconds;
        }

        /// <summary>Closes a part: hidden until the next checkpoint completes (or the end of input).</summary>
        private void Roll(OpenPart part)
        {
            part.Encoder?.Complete();
            part.File.Flush(flushToDisk: true);
            part.File.Dispose();
            string pendingPath = Path.Combine(Path.GetDirectoryName(part.Final)!, $".{Path.GetFileName(part.Final)}.pending");
            File.Move(part.InProgress, pendingPath, overwrite: true);
            pending.Add(new PendingPart(NotCheckpointed, pendingPath, part.Final));
            open.Remove(part.Folder);
            if (ReferenceEquals(last, part)) last = null;
        }

        public override void OnWatermark(long watermark)
        {
            this.watermark = Math.Max(this.watermark, watermark);
            long now = Now;
            if (now >= nextCheck) RollByTime(now);
        }

        /// <summary>Staged at every checkpoint, so under checkpoints the rest waits for the final one too.</summary>
        public override bool CommitsAtCheckpoints => true;

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            // Always staged, also for a savepoint of a job without checkpoints: nothing is visible before its completion.
            // Flink rolls row-format parts when their size or time says; Eddy also closes them at every checkpoint
            // (more, smaller files; the same rows), so that a checkpoint never holds half a file.
            foreach (var part in open.Values.ToList()) Roll(part);
            for (int i = 0; i < pending.Count; i++)
                if (pending[i].Checkpoint == NotCheckpointed) pending[i] = pending[i] with { Checkpoint = checkpointId };
            var reported = committer.Report(subtask, checkpointId, touched, watermark);
            touched.Clear();
            state.Write(partNumber);
            state.Write(pending.Count);
            foreach (var p in pending)
            {
                state.Write(p.Checkpoint);
                state.Write(p.Pending);
                state.Write(p.Final);
            }
            // The partitions not yet committed that this subtask wrote: a restore hands them to the committer again.
            state.Write(reported.Count);
            foreach (var (folder, v, created) in reported)
            {
                state.Write(folder);
                state.Write(created);
                state.Write(v.Length);
                foreach (var x in v)
                {
                    state.Write(x is not null);
                    if (x is not null) state.Write(x);
                }
            }
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            foreach (var part in pending.Where(p => p.Checkpoint <= checkpointId).ToList())
            {
                Publish(part.Pending, part.Final);
                pending.Remove(part);
            }
            committer.Completed(subtask, checkpointId, Now);
        }

        public override void Flush()
        {
            // The end of input: every part becomes visible, then (once every subtask is there) every partition commits.
            foreach (var part in open.Values.ToList()) Roll(part);
            foreach (var part in pending) Publish(part.Pending, part.Final);
            pending.Clear();
            committer.EndOfInput(subtask, touched);
            touched.Clear();
        }

        public override void Dispose()
        {
            // Not flushed (the job failed or was cancelled): in-progress files stay hidden, as in Flink.
            foreach (var part in open.Values) part.File.Dispose();
            formatter.Dispose();
            base.Dispose();
        }
    }
}

/// <summary>
/// Commits the partitions of a <see cref="PartitionedFileSink"/> as Flink's single PartitionCommitter does, shared by
/// the sink's subtasks in this process: a partition reported by a subtask at a checkpoint is considered when every
/// subtask has made that checkpoint's files visible, against the trigger (process-time: its creation time + delay;
/// partition-time: the smallest watermark the subtasks had at the barrier); at the end of input every partition left
/// is committed once every subtask has ended.
/// </summary>
internal sealed class PartitionCommitter(PartitionedFileSink sink, int parallelism)
{
    private readonly object gate = new();
    private readonly HashSet<int> registered = [];
    private readonly Dictionary<string, (string?[] Values, long Created)> pending = new(StringComparer.Ordinal);
    private readonly Dictionary<long, (HashSet<int> Reported, long Watermark, HashSet<int> Completed)> checkpoints = [];
    private readonly HashSet<int> ended = [];
    private readonly Dictionary<string, long> created = new(StringComparer.Ordinal);
    private int parallelism = parallelism;

    /// <summary>False when the subtask was registered already (a restart: the caller makes a new committer).</summary>
    public bool Register(int subtask, int subtaskCount)
    {
        lock (gate)
        {
            if (!registered.Add(subtask)) return false;
            parallelism = subtaskCount;
            return true;
        }
    }

    /// <summary>A subtask wrote to a partition for the first time: the earliest such time is the partition's creation time.</summary>
    public void Created(string folder, long now)
    {
        lock (gate) created.TryAdd(folder, now);
    }

    public void Restore(string folder, string?[] values, long createdAt)
    {
        lock (gate)
        {
            created.TryAdd(folder, createdAt);
            pending.TryAdd(folder, (values, createdAt));
        }
    }

    /// <summary>At a barrier: the partitions the subtask wrote since the last one; returns the uncommitted ones it wrote, for its state.</summary>
    public List<(string Folder, string?[] Values, long Created)> Report(int subtask, long checkpoint, Dictionary<string, string?[]> touched, long watermark)
    {
        lock (gate)
        {
            foreach (var (folder, values) in touched)
                pending.TryAdd(folder, (values, created.GetValueOrDefault(folder)));
            if (!checkpoints.TryGetValue(checkpoint, out var c)) checkpoints[checkpoint] = c = ([], long.MaxValue, []);
            c.Reported.Add(subtask);
            checkpoints[checkpoint] = c with { Watermark = Math.Min(c.Watermark, watermark) };
            return pending.Select(p => (p.Key, p.Value.Values, p.Value.Created)).ToList();
        }
    }

    /// <summary>A subtask made the checkpoint's files visible; the last one commits what the trigger allows.</summary>
    public void Completed(int subtask, long checkpoint, long now)
    {
        lock (gate)
        {
            if (!checkpoints.TryGetValue(checkpoint, out var c)) return;
            c.Completed.Add(subtask);
            if (c.Completed.Count < parallelism || c.Reported.Count < parallelism) return;
            foreach (var old in checkpoints.Keys.Where(k => k <= checkpoint).ToList()) checkpoints.Remove(old);
            var commit = sink.Options.Commit;
            long delay = (long)commit.Delay.TotalMilliseconds;
            foreach (var (folder, (values, createdAt)) in pending.ToList())
            {
                bool ready = commit.Trigger == PartitionCommitTrigger.ProcessTime
                    ? delay == 0 || now > createdAt + delay
                    : c.Watermark != long.MinValue && c.Watermark > new DateTimeOffset(sink.PartitionTime(values)).ToUnixTimeMilliseconds() + delay;
                if (!ready) continue;
                Commit(folder);
                pending.Remove(folder);
            }
        }
    }

    public void EndOfInput(int subtask, Dictionary<string, string?[]> touched)
    {
        lock (gate)
        {
            foreach (var (folder, values) in touched) pending.TryAdd(folder, (values, created.GetValueOrDefault(folder)));
            ended.Add(subtask);
            if (ended.Count < parallelism) return;
            foreach (var folder in pending.Keys.Order(StringComparer.Ordinal).ToList())
            {
                Commit(folder);
                pending.Remove(folder);
            }
        }
    }

    private void Commit(string folder)
    {
        if (!sink.Options.Commit.SuccessFile) return;
        string dir = Path.Combine(sink.Options.Path, folder);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, sink.Options.Commit.SuccessFileName), []);
    }
}
