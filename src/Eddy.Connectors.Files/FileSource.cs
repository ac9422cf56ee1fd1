using System.Text;
using Eddy.Runtime;

namespace Eddy.Connectors;

/// <summary>
/// A bounded source of rows from JSON lines or CSV files: one file, a folder or a glob (see <see cref="FilePaths"/>).
/// File <c>i</c> of the sorted list goes to subtask <c>i mod parallelism</c> and is one split of it. A record that
/// fails to parse fails the job with a <see cref="FileParseException"/> (file:line: problem), unless
/// <see cref="FileConnectorOptions.IgnoreParseErrors"/> is set: then it is skipped and counted in <see cref="SkippedRecords"/>.
/// </summary>
public sealed class FileSource : Source<Row>
{
    private long skipped;

    public FileSource(FileConnectorOptions options, Schema schema)
    {
        Options = options;
        Schema = schema;
        if (options.Format == FileFormat.Csv)
        {
            foreach (var column in schema.Columns)
            {
                if (column.Type.Kind is TypeKind.Map or TypeKind.Row
                    || column.Type.Kind == TypeKind.Array && column.Type.Element!.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row)
                    throw new ArgumentException($"the csv format cannot hold column '{column.Name}' of type {column.Type}");
            }
        }
        options.CheckColumns(schema.Columns);
        // Resolved once, so that every subtask splits the same list.
        Files = FilePaths.Resolve(options.Path);
    }

    /// <summary>From Flink's options outside SQL (errors name the table 'filesystem').</summary>
    public FileSource(Schema schema, IReadOnlyDictionary<string, string> options, IReadOnlyList<IFileFormat>? formats = null)
        : this(FileConnectorOptions.Parse("filesystem", options, formats), schema) { }

    public FileConnectorOptions Options { get; }

    public Schema Schema { get; }

    public IReadOnlyList<string> Files { get; }

    /// <summary>Records skipped for parse errors so far, over all readers.</summary>
    public long SkippedRecords => Interlocked.Read(ref skipped);

    public override bool IsBounded => true;

    public override SourceReader<Row> CreateReader(SourceReaderContext context)
    {
        var mine = new List<string>();
        for (int i = context.SubtaskIndex; i < Files.Count; i += context.Parallelism) mine.Add(Files[i]);
        FileReader reader = Options.Format switch
        {
            FileFormat.JsonLines => new JsonLinesReader(this, mine),
            FileFormat.Csv => new CsvReader(this, mine),
            FileFormat.Parquet => new BinaryFileReader(this, mine, path => new ParquetRowReader(path, Schema.Columns.ToArray())),
            _ => new BinaryFileReader(this, mine, path => Options.Plugged!.OpenReader(Options, path, Schema.Columns)),
        };
        reader.Metrics = context.Metrics;
        if (context.Restored is { } restored) reader.Restore(restored);
        return reader;
    }

    /// <summary>
    /// Reads the files of one subtask in order. Its checkpoint state: the files it finished, and the file it is in
    /// with the number of lines (JSON) or records (CSV) consumed from it. A restore (at any parallelism) takes the
    /// union of every old subtask's state: finished files are skipped, a file in progress is read on after its
    /// consumed lines or records (they are skipped without being decoded).
    /// </summary>
    private abstract class FileReader(FileSource source, List<string> files) : SourceReader<Row>
    {
        private int current = -1;
        private readonly HashSet<string> finished = [];
        private readonly Dictionary<string, long> resumeAt = [];

        /// <summary>The subtask's counters: skipped records count in <see cref="SubtaskMetrics.RecordsSkipped"/> (the job's records-dropped).</summary>
        public SubtaskMetrics? Metrics { get; set; }

        /// <summary>Lines or records consumed from the current file (also those skipped for parse errors).</summary>
        protected long Consumed { get; set; }

        public void Restore(RestoredState restored)
        {
            foreach (var bytes in restored.SubtaskStates)
            {
                if (bytes.Length == 0) continue;
                using var r = new BinaryReader(new MemoryStream(bytes));
                int n = r.ReadInt32();
                for (int i = 0; i < n; i++) finished.Add(r.ReadString());
                int partial = r.ReadInt32();
                for (int i = 0; i < partial; i++) resumeAt[r.ReadString()] = r.ReadInt64();
            }
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            state.Write(finished.Count);
            foreach (var f in finished) state.Write(f);
            // The file being read, and files of this reader that a restore left half read and it has not reached yet.
            var partial = resumeAt.Where(kv => files.Contains(kv.Key)).ToList();
            if (IsOpen) partial.Add(new(files[current], Consumed));
            state.Write(partial.Count);
            foreach (var (file, consumed) in partial)
            {
                state.Write(file);
                state.Write(consumed);
            }
        }

        protected FileSource Owner { get; } = source;

        protected string CurrentPath => files[current];

        protected int CurrentSplit => current;

        public override int SplitCount => files.Count;

        public override string? SplitName(int split) => split >= 0 && split < files.Count ? Path.GetFileName(files[split]) : null;

        public sealed override SourceStatus Read(SourceOutput<Row> output)
        {
            while (!output.IsFull)
            {
                if (!IsOpen)
                {
                    if (current + 1 >= files.Count) return SourceStatus.EndOfInput;
                    current++;
                    if (finished.Contains(files[current])) continue;
                    Open(files[current]);
                    Consumed = 0;
                    if (resumeAt.Remove(files[current], out long skip))
                    {
                        for (long i = 0; i < skip; i++)
                        {
                            if (!SkipUnit()) break;
                        }
                        Consumed = skip;
                    }
                }
                if (!ReadFromFile(output))
                {
                    Close();
                    finished.Add(files[current]);
                }
            }
            return SourceStatus.MoreAvailable;
        }

        protected abstract bool IsOpen { get; }

        protected abstract void Open(string path);

        /// <summary>Reads until the output is full (true) or the file ends (false).</summary>
        protected abstract bool ReadFromFile(SourceOutput<Row> output);

        protected abstract void Close();

        /// <summary>Skips one line or record of the open file without decoding it; false at its end.</summary>
        protected abstract bool SkipUnit();

        protected static FileStream OpenRead(string path) =>
            new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, System.IO.FileOptions.SequentialScan);

        /// <summary>Fails with the file and line, or counts the record as skipped.</summary>
        protected void OnBadRecord(long line, string problem)
        {
            if (!Owner.Options.IgnoreParseErrors) throw new FileParseException(CurrentPath, line, problem);
            Interlocked.Increment(ref Owner.skipped);
            if (Metrics is { } m) m.RecordsSkipped++;
        }

        public override void Dispose()
        {
            if (IsOpen) Close();
            base.Dispose();
        }
    }

    private sealed class JsonLinesReader(FileSource source, List<string> files) : FileReader(source, files)
    {
        private readonly JsonRowDecoder decoder = new(source.Schema, source.Options.FailOnMissingField);
        private ByteLineReader? lines;

        protected override bool IsOpen => lines is not null;

        protected override void Open(string path) => lines = new ByteLineReader(OpenRead(path));

        protected override bool SkipUnit() => lines!.TryReadLine(out _);

        protected override bool ReadFromFile(SourceOutput<Row> output)
        {
            var reader = lines!;
            long bytesBefore = reader.BytesRead;
            try
            {
                while (!output.IsFull)
                {
                    if (!reader.TryReadLine(out var line)) return false;
                    Consumed++;
                    if (line.IsEmpty || line.IndexOfAnyExcept(" \t"u8) < 0) continue;
                    Row row;
                    try
                    {
                        row = decoder.Decode(line);
                    }
                    catch (RecordFormatException e)
                    {
                        OnBadRecord(reader.LineNumber, e.Message);
                        continue;
                    }
                    output.Add(row, EventTime.None, CurrentSplit);
                }
                return true;
            }
            finally
            {
                output.Bytes += reader.BytesRead - bytesBefore;
            }
        }

        protected override void Close()
        {
            lines!.Dispose();
            lines = null;
        }
    }

    private sealed class CsvReader(FileSource source, List<string> files) : FileReader(source, files)
    {
        private readonly List<CsvField> fields = [];
        private readonly Column[] columns = source.Schema.Columns.ToArray();
        private CsvRecordReader? records;

        protected override bool IsOpen => records is not null;

        protected override void Open(string path)
        {
            records = new CsvRecordReader(new StreamReader(OpenRead(path), MarkingUtf8, true, 1 << 16), Owner.Options.CsvDelimiter);
            if (Owner.Options.CsvHeader) records.TryReadRecord(fields);
        }

        protected override bool ReadFromFile(SourceOutput<Row> output)
        {
            var reader = records!;
            long charsBefore = reader.CharsRead;
            try
            {
                while (!output.IsFull)
                {
                    bool read;
                    try
                    {
                        read = reader.TryReadRecord(fields);
                    }
                    catch (RecordFormatException e)
                    {
                        Consumed++;
                        OnBadRecord(reader.LineNumber, e.Message);
                        continue;
                    }
                    if (!read) return false;
                    Consumed++;
                    if (fields is [{ Text: "", Quoted: false }] && columns.Length != 1) continue;
                    try
                    {
                        output.Add(Decode(), EventTime.None, CurrentSplit);
                    }
                    catch (RecordFormatException e)
                    {
                        OnBadRecord(reader.LineNumber, e.Message);
                    }
                }
                return true;
            }
            finally
            {
                // Characters, not bytes: close enough for the metric without decoding twice.
                output.Bytes += reader.CharsRead - charsBefore;
            }
        }

        protected override bool SkipUnit()
        {
            try
            {
                return records!.TryReadRecord(fields);
            }
            catch (RecordFormatException)
            {
                return true;
            }
        }

        /// <summary>
        /// UTF-8 that turns bytes which are not UTF-8 into <see cref="InvalidMark"/>, a noncharacter (reserved for a
        /// program's internal use, so not in text): a record holding one is rejected, as Flink's csv (Jackson) rejects it.
        /// The stream reader decodes ahead of the record parser, so the mark, not an exception, carries the place.
        /// </summary>
        private static readonly Encoding MarkingUtf8 = Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new DecoderReplacementFallback(InvalidMark.ToString()));

        private const char InvalidMark = '\uFDD0';

        private Row Decode()
        {
            if (fields.Count != columns.Length)
                throw new RecordFormatException($"expected {columns.Length} fields, got {fields.Count}");
            for (int i = 0; i < fields.Count; i++)
            {
                if (fields[i].Text.Contains(InvalidMark, StringComparison.Ordinal))
                    throw new RecordFormatException($"field {i + 1} ('{columns[i].Name}') holds bytes that are not UTF-8");
            }
            var values = new object?[columns.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var f = fields[i];
                values[i] = f.Text.Length == 0 && !f.Quoted
                    ? null
                    : TextValues.Parse(f.Text, columns[i].Type, columns[i].Name, Owner.Options.CsvArrayDelimiter);
            }
            return new Row(RowKind.Insert, values);
        }

        protected override void Close()
        {
            records!.Dispose();
            records = null;
        }
    }

    /// <summary>Parquet or Avro files, row by row; the checkpoint position within a file is the rows read.</summary>
    private sealed class BinaryFileReader(FileSource source, List<string> files, Func<string, IFileRowReader> open) : FileReader(source, files)
    {
        private IFileRowReader? rows;

        protected override bool IsOpen => rows is not null;

        protected override void Open(string path) => rows = open(path);

        protected override bool SkipUnit() => rows!.Skip();

        protected override bool ReadFromFile(SourceOutput<Row> output)
        {
            var reader = rows!;
            while (!output.IsFull)
            {
                if (!reader.TryRead(out var values)) return false;
                Consumed++;
                output.Add(new Row(RowKind.Insert, values), EventTime.None, CurrentSplit);
            }
            return true;
        }

        protected override void Close()
        {
            rows!.Dispose();
            rows = null;
        }
    }
}
