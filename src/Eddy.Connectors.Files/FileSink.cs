using Eddy.Runtime;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors;

/// <summary>
/// Writes rows as JSON lines or CSV. Into a folder: one part file per subtask and flush, <c>part-&lt;subtask&gt;-&lt;n&gt;.&lt;ext&gt;</c>,
/// written under a hidden in-progress name (<c>.part-…inprogress</c>, which <see cref="FilePaths"/> skips) and renamed
/// on <see cref="SinkWriter{T}.Flush"/>, so readers never see half a file. Into one file (parallelism 1 only): the
/// same, with the file's own name. The sink takes inserts only, as Flink's filesystem sink.
/// </summary>
public sealed class FileSink : Sink<Row>
{
    private FileSink(FileConnectorOptions options, Schema schema, bool singleFile)
    {
        Options = options;
        Schema = schema;
        SingleFile = singleFile;
    }

    public FileConnectorOptions Options { get; }

    public Schema Schema { get; }

    public bool SingleFile { get; }

    /// <summary>Part files in the folder <see cref="FileConnectorOptions.Path"/> (created when missing).</summary>
    public static FileSink ToFolder(FileConnectorOptions options, Schema schema) => new(options, schema, singleFile: false);

    /// <summary>The one file <see cref="FileConnectorOptions.Path"/>, replaced at the first flush; the sink must run at parallelism 1.</summary>
    public static FileSink ToFile(FileConnectorOptions options, Schema schema) => new(options, schema, singleFile: true);

    /// <summary>A path with a file extension that is not an existing folder is one file; anything else a folder.</summary>
    /// <exception cref="ConnectorOptionException">an option only a partitioned sink honours, named with <paramref name="table"/>.</exception>
    public static FileSink Create(string table, Schema schema, FileConnectorOptions options)
    {
        // Eddy's unpartitioned sink rolls at checkpoints and at the end of input only; options it would not honour are refused.
        if (options.PartitionedSinkOption is { } key)
            throw new ConnectorOptionException(table, key, "supported on a partitioned table only (PARTITIONED BY)");
        bool file = !Directory.Exists(options.Path) && !options.Path.EndsWith('/') && Path.HasExtension(options.Path);
        options.CheckColumns(schema.Columns);
        return new FileSink(options, schema, file);
    }

    /// <summary>From Flink's options outside SQL (errors name the table 'filesystem').</summary>
    public static FileSink Create(Schema schema, IReadOnlyDictionary<string, string> options, IReadOnlyList<IFileFormat>? formats = null) =>
        Create("filesystem", schema, FileConnectorOptions.Parse("filesystem", options, formats));

    public override SinkWriter<Row> CreateWriter(SinkWriterContext context)
    {
        if (SingleFile && context.Parallelism > 1)
            throw new InvalidOperationException(
                $"the file sink writes the single file '{Options.Path}' only at parallelism 1 (it runs at {context.Parallelism}); write to a folder instead");
        var writer = new Writer(this, context.SubtaskIndex, context.CheckpointingEnabled && !SingleFile);
        if (context.Restored is { } restored) writer.Restore(restored, context.SubtaskIndex);
        return writer;
    }

    /// <summary>
    /// Writes part files. Under checkpoints (into a folder) it is exactly-once: at a barrier the open part is closed
    /// under a hidden pending name recorded in the checkpoint, and renamed to its final name only when that
    /// checkpoint completes; a restore finishes the renames the crash cut short (a part already renamed stays), and
    /// parts written after the checkpoint stay hidden in-progress files, later overwritten.
    /// </summary>
    private sealed class Writer(FileSink sink, int subtask, bool twoPhase) : SinkWriter<Row>
    {
        private readonly List<(long Checkpoint, string Pending, string Final)> pending = [];

        public void Restore(RestoredState restored, int subtaskIndex)
        {
            if (!twoPhase || subtaskIndex >= restored.SubtaskStates.Count || restored.SubtaskStates[subtaskIndex].Length == 0) return;
            using var r = new BinaryReader(new MemoryStream(restored.SubtaskStates[subtaskIndex]));
            partNumber = r.ReadInt32();
            int n = r.ReadInt32();
            for (int i = 0; i < n; i++)
            {
                long id = r.ReadInt64();
                string pendingPath = r.ReadString(), final = r.ReadString();
                if (id <= restored.CheckpointId) Publish(pendingPath, final);
            }
        }

        private static void Publish(string pendingPath, string final)
        {
            // Idempotent: after a crash between the rename and the next checkpoint the pending file is gone already.
            if (File.Exists(pendingPath)) File.Move(pendingPath, final, overwrite: true);
        }

        public override bool CommitsAtCheckpoints => twoPhase;

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            if (!twoPhase)
            {
                Flush();
                return;
            }
            if (file is not null)
            {
                Drain();
                CompleteEncoder();
                file.Flush(flushToDisk: true);
                file.Dispose();
                file = null;
                string final = FinalPath();
                string pendingPath = Path.Combine(Path.GetDirectoryName(final)!, $".{Path.GetFileName(final)}.pending-{checkpointId}");
                File.Move(inProgressPath!, pendingPath, overwrite: true);
                pending.Add((checkpointId, pendingPath, final));
                partNumber++;
            }
            state.Write(partNumber);
            state.Write(pending.Count);
            foreach (var (id, p, f) in pending)
            {
                state.Write(id);
                state.Write(p);
                state.Write(f);
            }
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            foreach (var part in pending.Where(p => p.Checkpoint <= checkpointId).ToList())
            {
                Publish(part.Pending, part.Final);
                pending.Remove(part);
            }
        }

        private const int FlushBytes = 1 << 16;

        private readonly PartFormatter formatter = new(sink.Options, sink.Schema.Columns.ToArray(), Enumerable.Range(0, sink.Schema.Count).ToArray());
        private readonly FileConnectorOptions options = sink.Options;
        private FileStream? file;
        private IFilePartWriter? encoder;
        private string? inProgressPath;
        private int partNumber;
        private bool targetWritten;

        public override void Write(Batch<Row> batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = batch.KindAt(i);
                var row = batch.Values[i];
                if (kind != RowKind.Insert)
                    throw new NotSupportedException($"the file sink takes inserts only (+I), got {kind.ShortString()}{row.ToString()[2..]}");
                if (file is null) OpenPart();
                if (encoder is not null)
                {
                    encoder.Write(row);
                    continue;
                }
                formatter.Write(row);
                if (formatter.Buffer.WrittenCount >= FlushBytes) Drain();
            }
        }

        private void OpenPart()
        {
            string final = FinalPath();
            string dir = Path.GetDirectoryName(Path.GetFullPath(final))!;
            Directory.CreateDirectory(dir);
            inProgressPath = Path.Combine(dir, "." + Path.GetFileName(final) + ".inprogress");
            file = new FileStream(inProgressPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            if (options.Format is FileFormat.Parquet or FileFormat.Plugged)
            {
                // A Parquet file ends with its footer, an Avro file starts with its header: a second flush into the one file would need a new file.
                if (sink.SingleFile && targetWritten)
                    throw new InvalidOperationException($"the {(options.Plugged?.Name ?? "parquet")} file '{options.Path}' was written already; write to a folder to write more than once (a checkpoint or flush each)");
                var columns = sink.Schema.Columns.ToArray();
                int[] fields = [.. Enumerable.Range(0, sink.Schema.Count)];
                encoder = options.Plugged is { } plugged
                    ? plugged.CreateWriter(options, columns, fields, file)
                    : new ParquetPartEncoder(options, columns, fields, file);
            }
            if (options.Format == FileFormat.Csv && options.CsvHeader && !(sink.SingleFile && targetWritten)) formatter.WriteHeader();
        }

        private string FinalPath() => sink.SingleFile
            ? options.Path
            : Path.Combine(options.Path, $"part-{subtask}-{partNumber}.{options.Extension}");

        /// <summary>A binary part's last row group or block and its end, before its file is closed.</summary>
        private void CompleteEncoder()
        {
            encoder?.Complete();
            encoder = null;
        }

        private void Drain()
        {
            file!.Write(formatter.Buffer.WrittenSpan);
            formatter.Buffer.ResetWrittenCount();
        }

        public override void Flush()
        {
            // The end of input: what was staged for checkpoints that did not complete becomes visible too.
            NotifyCheckpointComplete(long.MaxValue);
            if (file is null) return;
            Drain();
            CompleteEncoder();
            file.Flush(flushToDisk: true);
            file.Dispose();
            file = null;
            string final = FinalPath();
            if (sink.SingleFile && targetWritten)
            {
                // A later flush of the one file appends what came since the first.
                using (var target = new FileStream(final, FileMode.Append, FileAccess.Write))
                using (var part = File.OpenRead(inProgressPath!))
                    part.CopyTo(target);
                File.Delete(inProgressPath!);
            }
            else File.Move(inProgressPath!, final, overwrite: true);
            targetWritten = true;
            partNumber++;
        }

        public override void Dispose()
        {
            // Not flushed (the job failed or was cancelled): the in-progress file stays hidden, as in Flink.
            file?.Dispose();
            formatter.Dispose();
            base.Dispose();
        }
    }
}
