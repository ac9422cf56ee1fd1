// Eddy.Bench: an in-process benchmark harness.
//
//   dotnet run -c Release --project bench/Eddy.Bench -- [workload ...] [--events N] [--runs R] [--keys K] [--list]
//   dotnet run -c Release --project bench/Eddy.Bench -- server-api [--jobs 20] [--seconds 20]   (REST API latency)
//
// Registration shape (other files, in namespace Eddy.Bench, plug in here: one line each in Program.Workloads below):
//
//   public readonly record struct BenchEvent(long Timestamp, int Key, int Payload);   // 16 bytes
//       event i: Timestamp = i * 10 (ms), Key = pseudo-random in [0, keys) from a fixed-seed generator,
//       Payload = pseudo-random int. Generated once, in memory, BEFORE any timing (Harness.Generate).
//
//   public sealed record Workload(string Name, string Description, Func<BenchEvent[], long> Run, int? Keys = null);
//       Run builds a job over the given events, executes it to its end and returns the number of results
//       (records that reached the sink). Everything inside Run is timed; allocation is measured around it.
//
// Output per workload: best and median events/s over the runs, bytes allocated per event (GC.GetTotalAllocatedBytes
// delta / events, lowest run), CPU ns per event (process CPU time / events, lowest run: steadier than wall time when
// other processes share the machine), the result count, and each run's rate in M events/s.
//
// Helpers for workload authors (Harness.cs):
//   Harness.Events(env, events)      a DataStream<BenchEvent> over the array with event time = Timestamp and
//                                    monotonous watermarks (bounded: a watermark after every source batch).
//   new CountingSink<T>()            a sink that only counts; read .Count after env.Execute().
//
// A window workload looks like:
//   public static long Tumbling(BenchEvent[] events)
//   {
//       var env = StreamEnvironment.Create();
//       var sink = new CountingSink<...>();
//       Harness.Events(env, events).KeyBy(e => e.Key)...SinkTo(sink);
//       env.Execute("tumbling");
//       return sink.Count;
//   }
// and is registered as:  new("tumbling", "(2) tumbling count per key", WindowWorkloads.Tumbling),
namespace Eddy.Bench;

public static class Program
{
    /// <summary>Every workload the harness can run, in the order they run by default.</summary>
    public static readonly List<Workload> Workloads =
    [
        new("filter", "(1) filter pass-through -> counting sink, parallelism 1 (one chained task)", Harness.FilterPassThrough),
        new("filter-rebalance", "(1) source | rebalance | filter -> counting sink: 2 tasks through an input gate", Harness.FilterRebalance),
        new("filter-p2", "(1) parallelism 2: 2 sources | rebalance | 2 x (filter -> counting sink): 4 tasks", Harness.FilterParallel2),
        new("filter-hash-p2", "(1) parallelism 2 with a hash exchange: 2 sources | keyBy(key) | 2 x (filter -> counting sink)", Harness.FilterHashParallel2),
        new("tumbling", "(2) 1-minute tumbling count per key, 10,000 keys", WindowWorkloads.TumblingCount, 10_000),
        new("tumbling-ck1s", "(2) with a checkpoint every second (issue 7: target under 10 % below 'tumbling')", WindowWorkloads.TumblingCountCheckpointed, 10_000),
        new("tumbling-day", "(2) 1-day tumbling count per key, 2,000,000 keys (~2 M accumulators held)", WindowWorkloads.TumblingDayCount, 2_000_000),
        new("tumbling-day-ck1s", "tumbling-day with a checkpoint every second (~24 MB of window state each; issue 7)", WindowWorkloads.TumblingDayCountCheckpointed, 2_000_000),
        new("sliding", "(3) 1-minute windows sliding by 10 s, count per key, 10,000 keys", WindowWorkloads.SlidingCount, 10_000),
        new("session-5s", "(4) session windows, 5 s gap, count per key, 100,000 keys", WindowWorkloads.Session5sCount, 100_000),
        new("session-30s", "(5) session windows, 30 s gap, count per key, 1,000 keys", WindowWorkloads.Session30sCount, 1_000),
        new("join-person-auction", "regular inner join person x auction on seller (Nexmark-like 1:3:46 split, bids dropped), unbounded state", JoinWorkloads.PersonAuction),
        new("join-interval-bid", "event-time interval join bid x auction, bid.ts in [auction.ts, auction.ts + 10 s] (Nexmark-like split)", JoinWorkloads.AuctionBidInterval),
        new("sql-filter", "(1) in SQL: SELECT ... WHERE, planned from text", SqlWorkloads.Filter),
        new("sql-tumbling", "(2) in SQL: TUMBLE window TVF, COUNT(*) per key", SqlWorkloads.Tumbling, 10_000),
        new("sql-sliding", "(3) in SQL: HOP window TVF, COUNT(*) per key", SqlWorkloads.Sliding, 10_000),
        new("sql-session-5s", "(4) in SQL: SESSION window TVF, 5 s gap", SqlWorkloads.Session5s, 100_000),
        new("sql-session-30s", "(5) in SQL: SESSION window TVF, 30 s gap", SqlWorkloads.Session30s, 1_000),
        new("sql-group", "in SQL: non-windowed GROUP BY k, COUNT(*) and SUM: a changelog row per event, 10,000 keys", SqlWorkloads.Group, 10_000),
        new("sql-group-over-group", "in SQL: GROUP BY over a GROUP BY's changelog (retracting COUNT/MAX/MIN/AVG), 10,000 keys", SqlWorkloads.GroupOverGroup, 10_000),
        new("sql-over-rows", "in SQL: SUM OVER (PARTITION BY k ORDER BY rt ROWS BETWEEN 10 PRECEDING AND CURRENT ROW), 10,000 keys", OverWorkloads.RowsSum, 10_000),
        new("sql-over-range", "in SQL: COUNT(*) OVER (PARTITION BY k ORDER BY rt RANGE BETWEEN INTERVAL '10' SECOND PRECEDING ...), 10,000 keys", OverWorkloads.RangeCount, 10_000),
        new("udf-sync", "(udf) SELECT k, mix(payload): a synchronous ScalarFunction compiled into the Calc", UdfWorkloads.SyncScalar),
        new("udf-async", "(udf) the same work as an AsyncScalarFunction answering at once: the async operator's cost per row", UdfWorkloads.AsyncScalar),
        new("geo-find-ipv4", "(geo) the database read alone: 4 address bytes -> location (tree walk and record decode), real database, one thread", GeoWorkloads.FindIpv4),
        new("geo-lookup-ipv4", "(geo) get_location's work on IPv4 strings: parse, address cache, database read on a miss (65,536 locations)", GeoWorkloads.LocateIpv4Cached),
        new("geo-lookup-ipv4-nocache", "(geo) the same without the cache (every lookup reads the database)", GeoWorkloads.LocateIpv4Uncached),
        new("geo-lookup-ipv6", "(geo) get_location's work on IPv6 strings, with the cache", GeoWorkloads.LocateIpv6Cached),
        new("geo-lookup-web-traffic", "(geo) get_location over the pass-through job's addresses (100,000 visitors, 5 % IPv6), no job", GeoWorkloads.GetLocationWebTraffic),
        new("geo-pass-through", "(geo) the lab's day-1 job in SQL: web traffic -> get_location(ip) -> counting sink", GeoWorkloads.PassThroughGeo),
        new("geo-pass-through-plain", "(geo) the same job without get_location (the baseline)", GeoWorkloads.PassThroughPlain),
        new("geo-lab-kafka", "(geo) the lab's day-1 job end to end: Kafka (dev broker, lab JSON events) -> get_location(ip) -> counting sink", GeoLabWorkloads.KafkaToBlackholeGeo),
        new("geo-lab-kafka-plain", "(geo) the same without get_location (the baseline)", GeoLabWorkloads.KafkaToBlackholePlain),
        new("geo-lab-kafka-pg", "(geo) Kafka -> get_location(ip) -> PostgreSQL append (EDDY_BENCH_PG or EDDY_TEST_PG)", GeoLabWorkloads.KafkaToPostgresGeo),
        new("geo-lab-kafka-pg-plain", "(geo) the same without get_location (the baseline)", GeoLabWorkloads.KafkaToPostgresPlain),
        new("pg-append", "PostgreSQL append sink: binary COPY per 1000 rows (EDDY_BENCH_PG or a throwaway server)", PostgresWorkloads.EddyAppend),
        new("pg-append-100k", "PostgreSQL append sink with 100,000-row COPY buffers", PostgresWorkloads.EddyAppendLargeBuffers),
        new("pg-copy-bare", "bare Npgsql binary COPY of the same rows, no Eddy job (the baseline for pg-append)", PostgresWorkloads.BareCopy),
        new("pg-copy-bare-1000", "bare Npgsql binary COPY in COPYs of 1000 rows (the baseline for pg-append's default buffer)", PostgresWorkloads.BareCopy1000),
        new("kafka-bare", "bare Confluent.Kafka consumer reading the JSON events from the dev broker (the baseline for kafka-*)", KafkaWorkloads.BareConsumer),
        new("kafka-source", "Kafka (dev broker) -> Eddy's source reader, value length only -> counting sink (no decoding)", KafkaWorkloads.SourceOnly),
        new("kafka-json", "Kafka (dev broker) -> JSON decode in SQL -> counting sink", KafkaWorkloads.JsonDecode),
        new("kafka-json-rows", "kafka-json through generic rows (the path before the typed JSON decoder)", KafkaWorkloads.JsonDecodeRows),
        new("kafka-tumbling", "Kafka (dev broker) -> JSON decode -> 1-minute tumbling COUNT(*) per key in SQL, 10,000 keys", KafkaWorkloads.TumblingCount, 10_000),
        new("kafka-tumbling-repartition", "kafka-tumbling in two stages through a repartition topic on the dev broker (one pipeline per partition, as workers run it)", KafkaWorkloads.TumblingCountRepartitioned, 10_000),
        new("protobuf-library", "protobuf: the library's own parse (generated ClickEvent.Parser.ParseFrom) of web-traffic-like messages", ProtobufWorkloads.Library),
        new("protobuf-struct", "protobuf: Eddy's decoder over CodedInputStream straight into the row struct, same bytes", ProtobufWorkloads.Struct),
        new("protobuf-rows", "protobuf: Eddy's decoder into generic rows, same bytes", ProtobufWorkloads.Rows),
        new("avro-library", "avro: Apache.Avro's GenericDatumReader of web-traffic-like records (Flink's derived schema)", AvroWorkloads.Library),
        new("avro-rows", "avro: Eddy's read plan straight from the bytes into generic rows, same bytes", AvroWorkloads.Rows),
        new("avro-struct", "avro: Eddy's read plan straight from the bytes into the row struct, same bytes", AvroWorkloads.Struct),
        new("avro-file-write", "avro files: Eddy's part writer, 4-column rows into one container file (codec null)", AvroFileWorkloads.WriteEddy),
        new("avro-file-write-library", "avro files: Apache.Avro's DataFileWriter of generic records, same rows (the baseline)", AvroFileWorkloads.WriteLibrary),
        new("avro-file-read", "avro files: Eddy's block reader and read plan into rows (file written once, before the timing)", AvroFileWorkloads.ReadEddy),
        new("avro-file-read-library", "avro files: Apache.Avro's DataFileReader of generic records, same file (the baseline)", AvroFileWorkloads.ReadLibrary),
        new("pg-upsert", "PostgreSQL upsert sink: 1000-row buffers over 10,000 keys", PostgresWorkloads.EddyUpsert, 10_000),
        new("pg-upsert-bare-unnest", "bare Npgsql unnest ... ON CONFLICT per 1000 events (collapsed per key), 10,000 keys", PostgresWorkloads.BareUnnestUpsert, 10_000),
        new("pg-upsert-statement-batch", "Flink JDBC's pattern: batches of 1000 single-row INSERT ... ON CONFLICT, 10,000 keys", PostgresWorkloads.StatementBatchUpsert, 10_000),
        new("parquet-write", "filesystem sink, format parquet: the events as 4-column rows into part files (Snappy, 128 MB row groups)", ParquetWorkloads.WriteParquet),
        new("jsonl-write", "the same rows as JSON lines (the reference for parquet-write)", ParquetWorkloads.WriteJson),
        new("parquet-read", "filesystem source, format parquet: those files read back to a blackhole (written once, before the timing)", ParquetWorkloads.ReadParquet),
        new("jsonl-read", "the same rows read back from JSON lines (the reference for parquet-read)", ParquetWorkloads.ReadJson),
        new("pg-cdc", "postgres-cdc: the changes of N inserts waiting in a slot, read to a blackhole (prints the reading alone)", PostgresCdcWorkloads.EddyJob),
        new("pg-cdc-bare", "bare Npgsql pgoutput reading the same changes, every value read (the baseline for pg-cdc)", PostgresCdcWorkloads.Bare),
        new("pg-lookup", "SQL lookup join FOR SYSTEM_TIME AS OF a 10,000-row PostgreSQL table, partial cache", PostgresLookupWorkloads.PartialCache, 10_000),
        new("pg-lookup-nocache", "the same without a cache: one statement per batch for its distinct keys", PostgresLookupWorkloads.NoCache, 10_000),
        new("pg-lookup-bare-per-key", "Flink JDBC's pattern by hand: one prepared SELECT ... WHERE id = $1 per event, no cache", PostgresLookupWorkloads.BarePerKey, 10_000),
    ];

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "server-api") return ServerApiBenchmark.Run(args[1..]);
        if (args.Length > 0 && args[0] == "checkpoint-state") return CheckpointWorkloads.Run(args[1..]);
        var options = Options.Parse(args);
        if (options is null) return 2;
        GeoWorkloads.Prepare(options.Names.Contains("geo-lookup-web-traffic") ? (int)options.Events : 0);
        if (options.List)
        {
            foreach (var w in Workloads) Console.WriteLine($"{w.Name,-20} {w.Description}");
            return 0;
        }
        var selected = new List<Workload>();
        foreach (var name in options.Names)
        {
            var w = Workloads.Find(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase));
            if (w is null)
            {
                Console.Error.WriteLine($"unknown workload '{name}'; known: {string.Join(", ", Workloads.Select(x => x.Name))}");
                return 2;
            }
            selected.Add(w);
        }
        if (selected.Count == 0) selected.AddRange(Workloads);
        return Harness.Run(selected, options);
    }
}

/// <summary>One event of the benchmark input.</summary>
public readonly record struct BenchEvent(long Timestamp, int Key, int Payload);

/// <summary>A named benchmark: builds and runs a job over the events and returns the number of results.</summary>
/// <summary>A benchmark: its events have <see cref="Keys"/> distinct keys (default: the --keys option).</summary>
public sealed record Workload(string Name, string Description, Func<BenchEvent[], long> Run, int? Keys = null);

public sealed record Options(List<string> Names, long Events, int Runs, int Keys, bool List)
{
    public static Options? Parse(string[] args)
    {
        var names = new List<string>();
        long events = 20_000_000;
        int runs = 3, keys = 10_000;
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? Next() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "--events":
                    if (!TryCount(Next(), out events)) return Fail("--events needs a positive number (suffix k/M allowed)");
                    break;
                case "--runs":
                    if (!int.TryParse(Next(), out runs) || runs < 1) return Fail("--runs needs a positive number");
                    break;
                case "--keys":
                    if (!int.TryParse(Next(), out keys) || keys < 1) return Fail("--keys needs a positive number");
                    break;
                case "--list":
                    list = true;
                    break;
                case "-h" or "--help":
                    Console.WriteLine("usage: Eddy.Bench [workload ...] [--events N] [--runs R] [--keys K] [--list]");
                    return Fail(null);
                default:
                    if (a.StartsWith('-')) return Fail($"unknown option {a}");
                    names.Add(a);
                    break;
            }
        }
        if (events > int.MaxValue) return Fail("--events must be below 2^31");
        return new Options(names, events, runs, keys, list);
    }

    private static bool TryCount(string? s, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(s)) return false;
        long mult = 1;
        char last = s[^1];
        if (last is 'k' or 'K') mult = 1_000;
        else if (last is 'm' or 'M') mult = 1_000_000;
        if (mult != 1) s = s[..^1];
        if (!long.TryParse(s, out value) || value < 1) return false;
        value *= mult;
        return true;
    }

    private static Options? Fail(string? message)
    {
        if (message is not null) Console.Error.WriteLine(message);
        return null;
    }
}
