using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors;

/// <summary>
/// <c>'connector' = 'filesystem'</c>: a bounded source and a sink, and — as in Flink — a lookup table that is read
/// whole (a FULL cache) and read again after <c>lookup.full-cache.periodic-reload.interval</c> (or Flink's filesystem
/// option <c>lookup.join.cache.ttl</c>; default 60 min, as Flink). Options: <see cref="FilesystemOptions"/>.
/// </summary>
/// <param name="formats">the formats beyond json, csv and parquet this connector reads and writes (<c>avro</c>).</param>
public sealed class FilesystemTableConnector(IReadOnlyList<IFileFormat>? formats = null) : ILookupTableConnector
{
    private readonly IReadOnlyList<IFileFormat> formats = formats ?? [];

    public string Name => "filesystem";

    public OptionSchema OptionSchema { get; } = FilesystemOptions.SchemaFor(formats ?? []);

    public bool IsScannable => true;

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        var options = FilesystemOptions.Read(table.Name, OptionSchema.Validate(table), formats);
        return ConnectorOptionException.Naming(table, () => new FileSource(options, decoded));
    }

    private static void RefusePartitionedRead(TableDef table)
    {
        if (table.PartitionKeys.Count > 0)
            throw new ConnectorOptionException(table.Name, "PARTITIONED BY", "reading a partitioned filesystem table is not supported by Eddy yet (it writes them)");
    }

    public LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        var validated = OptionSchema.Validate(table);
        var files = FilesystemOptions.Read(table.Name, validated, formats);
        if (validated.FindString(FilesystemOptions.LookupCacheOption) is { } mode && mode != "FULL")
            throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupCacheOption.Name, $"a filesystem lookup table is always read whole: expected FULL, got '{mode}'");
        LookupCacheOptions cache;
        if (validated.Find(FilesystemOptions.LookupReloadIntervalOption) is { } interval)
        {
            if (validated.Has(FilesystemOptions.LookupCacheTtlOption))
                throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupCacheTtlOption.Name, $"set either it or '{FilesystemOptions.LookupReloadIntervalOption.Name}', not both");
            if (validated.Get(FilesystemOptions.LookupReloadStrategyOption) != "PERIODIC")
                throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupReloadStrategyOption.Name, "expected PERIODIC, got 'TIMED' (TIMED reloads are not supported by Eddy)");
            if (validated.Get(FilesystemOptions.LookupScheduleModeOption) != "FIXED_DELAY")
                throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupScheduleModeOption.Name, "expected FIXED_DELAY, got 'FIXED_RATE' (FIXED_RATE is not supported by Eddy)");
            if (interval <= TimeSpan.Zero) throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupReloadIntervalOption.Name, "must be positive");
            cache = LookupCacheOptions.FullCache(interval);
        }
        else
        {
            foreach (var option in (ConnectorOption[])[FilesystemOptions.LookupReloadStrategyOption, FilesystemOptions.LookupScheduleModeOption])
            {
                if (validated.Has(option)) throw new ConnectorOptionException(table.Name, option.Name, $"needs '{FilesystemOptions.LookupReloadIntervalOption.Name}'");
            }
            var ttl = validated.Get(FilesystemOptions.LookupCacheTtlOption);
            if (ttl <= TimeSpan.Zero) throw new ConnectorOptionException(table.Name, FilesystemOptions.LookupCacheTtlOption.Name, "must be positive");
            cache = LookupCacheOptions.FullCache(ttl);
        }
        var source = ConnectorOptionException.Naming(table, () => new FileSource(files, columns));
        return new WholeFileLookup(table.Name, source) { Cache = cache };
    }

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        var options = FilesystemOptions.Read(table.Name, OptionSchema.Validate(table), formats);
        return ConnectorOptionException.Naming<Sink<Row>>(table, () => table.PartitionKeys.Count > 0
            ? new PartitionedFileSink(options, schema, table.PartitionKeys)
            : FileSink.Create(table.Name, schema, options));
    }
}

/// <summary>A filesystem table as a lookup table: its files read whole, one subtask's reader over all of them.</summary>
internal sealed class WholeFileLookup(string table, FileSource files) : LookupSource
{
    public override string Describe => $"filesystem {files.Options.Path}, cache={Cache}";

    public override bool CanLoadAll => true;

    public override LookupFetcher CreateFetcher() => new Fetcher(table, files);

    private sealed class Fetcher(string table, FileSource files) : LookupFetcher
    {
        public override void Fetch(IReadOnlyList<object?[]> keys, Action<int, object?[]> found) =>
            throw new InvalidOperationException($"lookup table {table}: a filesystem lookup table is read whole, never by key");

        public override void LoadAll(Action<object?[]> row)
        {
            using var reader = files.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics($"lookup {table}", 0)));
            var output = new SourceOutput<Row>();
            var splits = new List<int>();
            while (true)
            {
                var status = reader.Read(output);
                var batch = output.DrainBatch(splits);
                for (int i = 0; i < batch.Count; i++) row(batch.Values[i].Fields.ToArray());
                BatchPool<Row>.Return(batch);
                if (status == SourceStatus.EndOfInput) break;
            }
        }
    }
}
