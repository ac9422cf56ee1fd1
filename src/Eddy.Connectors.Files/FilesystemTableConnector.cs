using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors;

/// <summary>
/// <c>'connector' = 'filesystem'</c>: a bounded source and a sink, and — as in Flink — a lookup table that is read
/// whole (a FULL cache) and read again after <c>lookup.full-cache.periodic-reload.interval</c> (or Flink's filesystem
/// option <c>lookup.join.cache.ttl</c>; default 60 min, as Flink).
/// </summary>
public sealed class FilesystemTableConnector(IReadOnlyList<IFileFormat>? formats = null) : ILookupTableConnector
{
    private readonly IReadOnlyList<IFileFormat> formats = formats ?? [];

    private const string CacheTtlOption = "lookup.join.cache.ttl";

    public string Name => "filesystem";

    public bool IsScannable => true;

    public bool AcceptsUpdates(TableDef table) => false;

    /// <summary>The file options without the lookup ones (which only a lookup join reads).</summary>
    private static Dictionary<string, string> FileOptions(TableDef table) =>
        table.Options.Where(kv => !kv.Key.StartsWith("lookup.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        return ConnectorOptionException.Naming(table, () => new FileSource(decoded, FileOptions(table), formats));
    }

    private static void RefusePartitionedRead(TableDef table)
    {
        if (table.PartitionKeys.Count > 0)
            throw new ConnectorOptionException(table.Name, "PARTITIONED BY", "reading a partitioned filesystem table is not supported by Eddy yet (it writes them)");
    }

    public LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        var o = table.Options;
        foreach (var key in o.Keys.Where(k => k.StartsWith("lookup.", StringComparison.Ordinal)))
        {
            if (key is not ("lookup.cache" or "lookup.full-cache.periodic-reload.interval" or "lookup.full-cache.reload-strategy"
                or "lookup.full-cache.periodic-reload.schedule-mode" or CacheTtlOption))
                throw new ConnectorOptionException(table.Name, key, "not supported for a filesystem lookup table, which is always read whole (a FULL cache)");
        }
        if (o.TryGetValue("lookup.cache", out var mode) && !mode.Equals("FULL", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "lookup.cache", $"a filesystem lookup table is always read whole: expected FULL, got '{mode}'");
        if (o.ContainsKey(CacheTtlOption) && o.ContainsKey("lookup.full-cache.periodic-reload.interval"))
            throw new ConnectorOptionException(table.Name, CacheTtlOption, "set either it or 'lookup.full-cache.periodic-reload.interval', not both");
        LookupCacheOptions cache;
        if (o.ContainsKey("lookup.full-cache.periodic-reload.interval"))
        {
            var withMode = new TableDef
            {
                Name = table.Name, Columns = table.Columns, Declaration = table.Declaration, Context = table.Context,
                Options = new Dictionary<string, string>(o) { ["lookup.cache"] = "FULL" },
            };
            cache = LookupCacheOptions.Parse(withMode);
        }
        else
        {
            foreach (var key in o.Keys.Where(k => k.StartsWith("lookup.full-cache.", StringComparison.Ordinal)))
                throw new ConnectorOptionException(table.Name, key, "needs 'lookup.full-cache.periodic-reload.interval'");
            TimeSpan ttl = TimeSpan.FromMinutes(60);
            if (o.TryGetValue(CacheTtlOption, out var text))
            {
                try
                {
                    ttl = SqlSession.ParseDuration(CacheTtlOption, text);
                }
                catch (FormatException e)
                {
                    throw new ConnectorOptionException(table.Name, CacheTtlOption, e.Message);
                }
            }
            if (ttl <= TimeSpan.Zero) throw new ConnectorOptionException(table.Name, CacheTtlOption, "must be positive");
            cache = LookupCacheOptions.FullCache(ttl);
        }
        var files = ConnectorOptionException.Naming(table, () => new FileSource(columns, FileOptions(table), formats));
        return new WholeFileLookup(table.Name, files) { Cache = cache };
    }

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        ConnectorOptionException.Naming<Sink<Row>>(table, () => table.PartitionKeys.Count > 0
            ? new PartitionedFileSink(FileConnectorOptions.Parse(table.Options, formats), schema, table.PartitionKeys)
            : FileSink.Create(schema, table.Options, formats));
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
