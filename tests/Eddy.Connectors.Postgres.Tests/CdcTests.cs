using Eddy.Connectors.Postgres.Cdc;
using Eddy.Runtime;
using Eddy.Sql;
using Npgsql;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>
/// <c>postgres-cdc</c> on the throwaway server (wal_level = logical): the changelog of a table, copied and aggregated
/// into upsert tables, is compared with the source table by SQL on PostgreSQL itself (the independent computation).
/// </summary>
public sealed class CdcTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly List<string> slots = [];
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("eddy-cdc-");

    private static NpgsqlConnectionStringBuilder Server => new(PgServer.ConnectionString);

    private string Slot(string prefix)
    {
        string slot = PgServer.UniqueName(prefix).ToLowerInvariant();
        slots.Add(slot);
        return slot;
    }

    /// <summary>A source table with a primary key and REPLICA IDENTITY FULL, and its first rows.</summary>
    private static string SourceTable(string prefix, int rows)
    {
        string table = PgServer.UniqueName(prefix);
        PgServer.Execute($"""
            CREATE TABLE {table} (id int PRIMARY KEY, grp text NOT NULL, v bigint, note text);
            ALTER TABLE {table} REPLICA IDENTITY FULL;
            INSERT INTO {table} SELECT i, 'g' || (i % 4), i * 10, repeat('x', i % 7) FROM generate_series(1, {rows}) AS i;
            """);
        return table;
    }

    private static string CdcDdl(string name, string table, string slot, string extra = "", string options = "")
    {
        var b = Server;
        return $"""
            CREATE TABLE {name} (
                id INT, grp STRING, v BIGINT, note STRING,{extra}
                PRIMARY KEY (id) NOT ENFORCED
            ) WITH (
                'connector' = 'postgres-cdc', 'hostname' = '{b.Host}', 'port' = '{b.Port}', 'username' = '{b.Username}', 'password' = '',
                'database-name' = '{b.Database}', 'schema-name' = 'public', 'table-name' = '{table}',
                'slot.name' = '{slot}', 'decoding.plugin.name' = 'pgoutput', 'debezium.publication.name' = 'pub_{slot}'{options}
            );
            """;
    }

    private static string JobScript(string source, string slot, string copy, string agg) => $"""
        SET 'pipeline.name' = 'cdc_{slot}';
        {CdcDdl("src", source, slot)}
        CREATE TABLE copy (id INT, grp STRING, v BIGINT, note STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
            'connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{copy}', 'sink.create-table' = 'true',
            'sink.buffer-flush.max-rows' = '100');
        CREATE TABLE agg (grp STRING, n BIGINT, total BIGINT, PRIMARY KEY (grp) NOT ENFORCED) WITH (
            'connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{agg}', 'sink.create-table' = 'true',
            'sink.buffer-flush.max-rows' = '100');
        EXECUTE STATEMENT SET BEGIN
            INSERT INTO copy SELECT id, grp, v, note FROM src;
            INSERT INTO agg SELECT grp, COUNT(*), SUM(v) FROM src GROUP BY grp;
        END;
        """;

    private static string JdbcUrl()
    {
        var b = Server;
        return $"jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}?user={b.Username}";
    }

    /// <summary>Rows in one table and not the other (both ways): 0 when the copy and the aggregate equal the source.</summary>
    private static long Differences(string source, string copy, string agg)
    {
        string sql = $"""
            SELECT (SELECT count(*) FROM ((SELECT id, grp, v, note FROM {source} EXCEPT ALL SELECT id, grp, v, note FROM {copy})
                                   UNION ALL (SELECT id, grp, v, note FROM {copy} EXCEPT ALL SELECT id, grp, v, note FROM {source})) d)
                 + (SELECT count(*) FROM ((SELECT grp, count(*), sum(v) FROM {source} GROUP BY grp EXCEPT ALL SELECT grp, n, total FROM {agg})
                                   UNION ALL (SELECT grp, n, total FROM {agg} EXCEPT ALL SELECT grp, count(*), sum(v) FROM {source} GROUP BY grp)) d)
            """;
        try
        {
            return (long)PgServer.Query(sql)[0][0]!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return -1; // the sinks create their tables when the job starts
        }
    }

    /// <summary>Waits until the sinks hold exactly the source's rows and groups (the job commits at each checkpoint).</summary>
    private static void AwaitEqual(JobExecution job, string source, string copy, string agg)
    {
        var deadline = DateTime.UtcNow + Patience;
        long diff;
        while ((diff = Differences(source, copy, agg)) != 0)
        {
            if (job.Completion.IsCompleted)
            {
                var result = job.Completion.Result;
                Assert.Fail($"the job ended ({result.Status}) with {diff} differences: {result.Failure}");
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"after {Patience.TotalSeconds} s the sinks still differ from the source in {diff} rows; "
                    + $"copy: {string.Join("; ", PgServer.Query($"SELECT * FROM {copy} ORDER BY id").Select(r => string.Join(",", r)))}; "
                    + $"agg: {string.Join("; ", PgServer.Query($"SELECT * FROM {agg} ORDER BY grp").Select(r => string.Join(",", r)))}");
            }
            Thread.Sleep(50);
        }
    }

    private static (SqlJob Job, JobExecution Execution) Start(string script, Func<JobConfig, JobConfig> configure)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var job = session.Execute(script).Single();
        job.Environment.Configure(configure);
        return (job, job.Environment.Start(job.Name));
    }

    private static void Changes(string table)
    {
        PgServer.Execute($"""
            INSERT INTO {table} VALUES (1001, 'g1', 5, 'new'), (1002, 'g9', 7, NULL);
            UPDATE {table} SET v = v + 1 WHERE id % 5 = 0;
            UPDATE {table} SET grp = 'g2', note = repeat('y', 3000) WHERE id = 3;
            DELETE FROM {table} WHERE id % 7 = 0;
            UPDATE {table} SET id = 2001 WHERE id = 11;
            """);
        // A rolled-back transaction never reaches the stream.
        using var conn = PgServer.Open();
        using var tx = conn.BeginTransaction();
        using (var cmd = new NpgsqlCommand($"INSERT INTO {table} VALUES (3001, 'g1', 1000000, 'rolled back'); DELETE FROM {table} WHERE id = 1", conn, tx))
            cmd.ExecuteNonQuery();
        tx.Rollback();
    }

    [Fact]
    public async Task Snapshot_then_inserts_updates_deletes_and_a_rolled_back_transaction_make_the_copy_and_the_aggregate_equal_the_table()
    {
        string source = SourceTable("cdc_src", 40), copy = PgServer.UniqueName("cdc_copy"), agg = PgServer.UniqueName("cdc_agg");
        string slot = Slot("slot_all");
        var (_, job) = Start(JobScript(source, slot, copy, agg), c => c with
        {
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            CheckpointDirectory = Path.Combine(folder.FullName, "ck"),
            RestartStrategy = RestartStrategy.None,
        });
        try
        {
            AwaitEqual(job, source, copy, agg);
            Changes(source);
            AwaitEqual(job, source, copy, agg);
            // A group emptied by deletes leaves the aggregate; one filled again comes back.
            PgServer.Execute($"DELETE FROM {source} WHERE grp = 'g9'; INSERT INTO {source} VALUES (4001, 'g7', 1, 'a'), (4002, 'g7', 2, 'b')");
            AwaitEqual(job, source, copy, agg);
            Assert.Empty(PgServer.Query($"SELECT grp FROM {agg} WHERE grp = 'g9'"));
        }
        finally
        {
            job.Cancel();
            await job.Completion.WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task A_job_killed_between_checkpoints_resumes_from_the_last_one_losing_and_repeating_nothing()
    {
        string source = SourceTable("cdc_restart", 30), copy = PgServer.UniqueName("cdc_rcopy"), agg = PgServer.UniqueName("cdc_ragg");
        string slot = Slot("slot_restart");
        string checkpoints = Path.Combine(folder.FullName, "restart");
        JobConfig Manual(JobConfig c) => c with
        {
            CheckpointInterval = TimeSpan.FromDays(1), CheckpointDirectory = checkpoints, RestartStrategy = RestartStrategy.None,
        };
        var (_, first) = Start(JobScript(source, slot, copy, agg), Manual);
        CheckpointStats stats;
        ulong confirmedBefore;
        try
        {
            // The barrier waits for the end of the snapshot; its completion commits the sinks' rows.
            stats = await first.TriggerCheckpoint().WaitAsync(Patience);
            Assert.Equal(CheckpointStatus.Completed, stats.Status);
            AwaitEqual(first, source, copy, agg);
            confirmedBefore = ConfirmedLsn(slot);
            // Read by the first job after its last checkpoint, never committed by it: the restored job reads them again.
            Changes(source);
            ulong end = CurrentLsn();
            var deadline = DateTime.UtcNow + Patience;
            while (SourceRecordsOut(first) < 30 + 9 && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(SourceRecordsOut(first) >= 30 + 9, $"the first job read {SourceRecordsOut(first)} changes");
            // The slot's confirmed position moves only with a completed checkpoint.
            Assert.Equal(confirmedBefore, ConfirmedLsn(slot));
            Assert.True(confirmedBefore < end);
        }
        finally
        {
            first.Cancel();
            await first.Completion.WaitAsync(Patience);
        }
        Assert.NotEqual(0, Differences(source, copy, agg));
        // Changes while no job runs.
        PgServer.Execute($"INSERT INTO {source} VALUES (5001, 'g3', 11, 'while down'); UPDATE {source} SET v = -v WHERE id = 2; DELETE FROM {source} WHERE id = 4");

        var (_, second) = Start(JobScript(source, slot, copy, agg), c => Manual(c) with
        {
            CheckpointInterval = TimeSpan.FromMilliseconds(200), RestorePath = stats.Path,
        });
        try
        {
            Assert.Equal(stats.Id, second.RestoredFrom?.Id);
            AwaitEqual(second, source, copy, agg);
            PgServer.Execute($"UPDATE {source} SET grp = 'g0' WHERE id = 5001");
            AwaitEqual(second, source, copy, agg);
            var deadline = DateTime.UtcNow + Patience;
            while (ConfirmedLsn(slot) <= confirmedBefore && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.True(ConfirmedLsn(slot) > confirmedBefore, "the restored job's checkpoints advance the slot");
        }
        finally
        {
            second.Cancel();
            await second.Completion.WaitAsync(Patience);
        }
    }

    /// <summary>
    /// The reader itself, one change per read: a checkpoint taken in the middle of a transaction restores to the rest
    /// of that transaction, not to its start and not past it.
    /// </summary>
    [Fact]
    public void A_checkpoint_in_the_middle_of_a_transaction_resumes_after_the_changes_already_emitted()
    {
        string source = SourceTable("cdc_midtx", 2);
        string slot = Slot("slot_midtx");
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute(CdcDdl("src", source, slot, options: ", 'scan.startup.mode' = 'latest-offset'"));
        Assert.True(session.Catalog.TryGetTable(["src"], out var table));
        var decoded = new Schema([new("id", DataType.Int), new("grp", DataType.String), new("v", DataType.BigInt), new("note", DataType.String)]);
        var cdc = new PostgresCdcTableConnector().CreateSource(table!, decoded, new Eddy.Sql.Connectors.ConnectorContext(TextWriter.Null, TextWriter.Null));
        SourceReaderContext Context(RestoredState? restored) => new(0, 1, TimeProvider.System, new SubtaskMetrics("cdc", 0)) { Restored = restored };

        byte[] state;
        var before = new List<Row>();
        using (var reader = cdc.CreateReader(Context(null)))
        {
            PgServer.Execute($"BEGIN; INSERT INTO {source} VALUES (10, 'a', 1, NULL), (11, 'b', 2, NULL); UPDATE {source} SET v = 99 WHERE id = 1; COMMIT");
            before.AddRange(ReadChanges(reader, 2));
            using var ms = new MemoryStream();
            using (var w = new BinaryWriter(ms)) reader.SnapshotState(1, w);
            state = ms.ToArray();
        }
        PgServer.Execute($"DELETE FROM {source} WHERE id = 2");
        using var restored = cdc.CreateReader(Context(new RestoredState(1, [state], 1)));
        var after = ReadChanges(restored, 3);
        Assert.Equal(["+I(10,a,1,)", "+I(11,b,2,)"], before.Select(Show));
        Assert.Equal(["-U(1,g1,10,x)", "+U(1,g1,99,x)", "-D(2,g2,20,xx)"], after.Select(Show));
    }

    private static string Show(Row r) => $"{r.Kind.ShortString()}({string.Join(",", Enumerable.Range(0, r.Arity).Select(i => r[i]))})";

    /// <summary>Exactly <paramref name="count"/> changes, one per read.</summary>
    private static List<Row> ReadChanges(SourceReader<Row> reader, int count)
    {
        var rows = new List<Row>();
        var output = new SourceOutput<Row> { Limit = 1 };
        var splits = new List<int>();
        var deadline = DateTime.UtcNow + Patience;
        while (rows.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {rows.Count} of {count} changes arrived");
            reader.Read(output);
            var batch = output.DrainBatch(splits);
            for (int i = 0; i < batch.Count; i++) rows.Add(batch.Values[i]);
            BatchPool<Row>.Return(batch);
        }
        return rows;
    }

    [Fact]
    public async Task Metadata_columns_carry_the_commit_time_and_the_names_and_snapshot_rows_have_op_ts_zero()
    {
        string source = SourceTable("cdc_meta", 2), target = PgServer.UniqueName("cdc_meta_out");
        string slot = Slot("slot_meta");
        var script = $"""
            {CdcDdl("src", source, slot, extra: " op_ts TIMESTAMP_LTZ(3) METADATA FROM 'op_ts' VIRTUAL, db STRING METADATA FROM 'database_name' VIRTUAL, sch STRING METADATA FROM 'schema_name' VIRTUAL, tbl STRING METADATA FROM 'table_name' VIRTUAL,")}
            CREATE TABLE meta (id INT, op_ts TIMESTAMP_LTZ(3), db STRING, sch STRING, tbl STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
                'connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{target}', 'sink.create-table' = 'true');
            INSERT INTO meta SELECT id, op_ts, db, sch, tbl FROM src;
            """;
        var (_, job) = Start(script, c => c with
        {
            CheckpointInterval = TimeSpan.FromMilliseconds(200), CheckpointDirectory = Path.Combine(folder.FullName, "meta"),
            RestartStrategy = RestartStrategy.None,
        });
        try
        {
            var deadline = DateTime.UtcNow + Patience;
            List<object?[]> rows;
            // The snapshot first: a row inserted before the job read it would be a snapshot row.
            while ((rows = TryQuery($"SELECT id FROM {target}")).Count < 2)
            {
                if (job.Completion.IsCompleted) Assert.Fail($"the job ended: {(await job.Completion).Failure}");
                Assert.True(DateTime.UtcNow < deadline, $"{rows.Count} of 2 snapshot rows arrived");
                await Task.Delay(50);
            }
            var from = (DateTime)PgServer.Query("SELECT clock_timestamp()")[0][0]!;
            PgServer.Execute($"INSERT INTO {source} VALUES (7, 'g3', 70, NULL)");
            var to = (DateTime)PgServer.Query("SELECT clock_timestamp()")[0][0]!;
            while ((rows = TryQuery($"SELECT id, op_ts, db, sch, tbl FROM {target} ORDER BY id")).Count < 3)
            {
                if (job.Completion.IsCompleted) Assert.Fail($"the job ended: {(await job.Completion).Failure}");
                Assert.True(DateTime.UtcNow < deadline, $"{rows.Count} of 3 rows arrived");
                await Task.Delay(50);
            }
            string db = Server.Database!;
            Assert.Equal([1, DateTime.UnixEpoch, db, "public", source], rows[0]);
            Assert.Equal([2, DateTime.UnixEpoch, db, "public", source], rows[1]);
            var opTs = (DateTime)rows[2][1]!;
            Assert.True(opTs >= from.AddMilliseconds(-1) && opTs <= to, $"op_ts {opTs:O} is not the commit time (between {from:O} and {to:O})");
            Assert.Equal(opTs, opTs.AddTicks(-(opTs.Ticks % TimeSpan.TicksPerMillisecond)));
        }
        finally
        {
            job.Cancel();
            await job.Completion.WaitAsync(Patience);
        }
    }

    /// <summary>
    /// Every type the source maps, NULL in every nullable column, from the snapshot and from the stream (updates of
    /// values, an update of the key, deletes): the copy the job upserts equals the source table, compared by PostgreSQL.
    /// </summary>
    [Fact]
    public async Task Every_mapped_type_and_null_reach_the_copy_exactly_from_the_snapshot_and_the_stream()
    {
        string source = PgServer.UniqueName("cdc_types"), copy = PgServer.UniqueName("cdc_types_copy");
        string slot = Slot("slot_types");
        const string Columns = "id, s, big, f, d, n, b, dt, tm, ts, tz, t, bin";
        PgServer.Execute($$"""
            CREATE TABLE {{source}} (id int PRIMARY KEY, s smallint, big bigint, f real, d double precision, n numeric(10, 2),
                b boolean, dt date, tm time, ts timestamp, tz timestamptz, t text, bin bytea);
            ALTER TABLE {{source}} REPLICA IDENTITY FULL;
            INSERT INTO {{source}} VALUES
                (1, -32768, 9223372036854775807, 1.5, -2.25e300, 12345678.91, true, '2024-02-29', '23:59:58', '2024-02-29 12:34:56.123456',
                 '2024-02-29 12:34:56.654321+00', 'snapshot', '\x00ff10'),
                (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            """);
        var b = Server;
        string script = $"""
            CREATE TABLE src (
                id INT, s SMALLINT, big BIGINT, f FLOAT, d DOUBLE, n DECIMAL(10, 2), b BOOLEAN, dt DATE, tm TIME, ts TIMESTAMP(6),
                tz TIMESTAMP_LTZ(6), t STRING, bin BYTES, PRIMARY KEY (id) NOT ENFORCED
            ) WITH (
                'connector' = 'postgres-cdc', 'hostname' = '{b.Host}', 'port' = '{b.Port}', 'username' = '{b.Username}', 'password' = '',
                'database-name' = '{b.Database}', 'schema-name' = 'public', 'table-name' = '{source}',
                'slot.name' = '{slot}', 'decoding.plugin.name' = 'pgoutput', 'debezium.publication.name' = 'pub_{slot}'
            );
            CREATE TABLE copy (
                id INT, s SMALLINT, big BIGINT, f FLOAT, d DOUBLE, n DECIMAL(10, 2), b BOOLEAN, dt DATE, tm TIME, ts TIMESTAMP(6),
                tz TIMESTAMP_LTZ(6), t STRING, bin BYTES, PRIMARY KEY (id) NOT ENFORCED
            ) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{copy}', 'sink.create-table' = 'true');
            INSERT INTO copy SELECT * FROM src;
            """;
        var (_, job) = Start(script, c => c with
        {
            CheckpointInterval = TimeSpan.FromMilliseconds(200), CheckpointDirectory = Path.Combine(folder.FullName, "types"),
            RestartStrategy = RestartStrategy.None,
        });
        string differences = $"""
            SELECT count(*) FROM ((SELECT {Columns} FROM {source} EXCEPT ALL SELECT {Columns} FROM {copy})
                UNION ALL (SELECT {Columns} FROM {copy} EXCEPT ALL SELECT {Columns} FROM {source})) x
            """;
        async Task AwaitCopy()
        {
            var deadline = DateTime.UtcNow + Patience;
            while (TryQuery(differences) is not [[0L]])
            {
                if (job.Completion.IsCompleted) Assert.Fail($"the job ended: {(await job.Completion).Failure}");
                Assert.True(DateTime.UtcNow < deadline,
                    $"the copy differs: {string.Join("; ", TryQuery($"SELECT * FROM {copy} ORDER BY id").Select(r => string.Join(",", r)))}");
                await Task.Delay(50);
            }
        }
        try
        {
            await AwaitCopy();
            PgServer.Execute($$"""
                INSERT INTO {{source}} VALUES
                    (3, 32767, -9223372036854775808, -0.125, 3.5e-300, -99999999.99, false, '1970-01-01', '00:00:01', '1999-12-31 23:59:59.999999',
                     '1969-07-20 20:17:40.5+00', 'stream', '\x'),
                    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
                UPDATE {{source}} SET s = 7, big = 8, f = 9.5, d = 10.5, n = 11.11, b = false, dt = '2000-01-01', tm = '12:00:00',
                    ts = '2000-01-01 00:00:00.000001', tz = '2000-01-01 00:00:00.000001+00', t = 'was null', bin = '\x01' WHERE id = 2;
                UPDATE {{source}} SET s = NULL, big = NULL, f = NULL, d = NULL, n = NULL, b = NULL, dt = NULL, tm = NULL, ts = NULL, tz = NULL,
                    t = NULL, bin = NULL WHERE id = 1;
                UPDATE {{source}} SET id = 30 WHERE id = 3;
                DELETE FROM {{source}} WHERE id = 4;
                """);
            await AwaitCopy();
            Assert.Equal(3L, PgServer.Query($"SELECT count(*) FROM {copy}")[0][0]);
        }
        finally
        {
            job.Cancel();
            await job.Completion.WaitAsync(Patience);
        }
    }

    private static List<object?[]> TryQuery(string sql)
    {
        try
        {
            return PgServer.Query(sql);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return [];
        }
    }

    private static string PlanError(string script)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.ThrowsAny<Exception>(() => session.Execute(script).ToList());
        return e.Message;
    }

    private static string PrintJob(string ddl) => ddl + "\nCREATE TABLE out (id INT) WITH ('connector' = 'print');\nINSERT INTO out SELECT id FROM src;";

    [Fact]
    public void A_user_without_the_replication_attribute_is_told_which_attribute_it_lacks_at_the_table()
    {
        string source = SourceTable("cdc_norepl", 1);
        string role = PgServer.UniqueName("cdc_reader").ToLowerInvariant();
        PgServer.Execute($"CREATE ROLE {role} LOGIN; GRANT SELECT ON {source} TO {role}");
        string ddl = CdcDdl("src", source, Slot("slot_norepl")).Replace($"'username' = '{Server.Username}'", $"'username' = '{role}'", StringComparison.Ordinal);
        string message = PlanError(PrintJob(ddl));
        Assert.Contains($"user '{role}' may not read a replication slot", message);
        Assert.Contains($"ALTER ROLE \"{role}\" REPLICATION", message);
        Assert.Contains("line 5, column", message); // at the 'username' option
        Assert.Contains("option 'username'", message);
    }

    [Fact]
    public void A_table_without_a_primary_key_or_without_replica_identity_full_is_refused_with_the_fix()
    {
        string noKey = PgServer.UniqueName("cdc_nokey");
        PgServer.Execute($"CREATE TABLE {noKey} (id int, grp text, v bigint, note text); ALTER TABLE {noKey} REPLICA IDENTITY FULL");
        string message = PlanError(PrintJob(CdcDdl("src", noKey, Slot("slot_nokey"))));
        Assert.Contains($"table \"public\".\"{noKey}\" has no primary key", message);
        Assert.Contains("table 'src'", message);

        string defaultIdentity = PgServer.UniqueName("cdc_default");
        PgServer.Execute($"CREATE TABLE {defaultIdentity} (id int PRIMARY KEY, grp text, v bigint, note text)");
        message = PlanError(PrintJob(CdcDdl("src", defaultIdentity, Slot("slot_default"))));
        Assert.Contains("has REPLICA IDENTITY DEFAULT", message);
        Assert.Contains("REPLICA IDENTITY FULL)", message);
    }

    [Fact]
    public void A_server_without_logical_wal_is_refused_naming_the_setting()
    {
        using var server = new PgServer.Own(walLevel: "replica");
        var b = new NpgsqlConnectionStringBuilder(server.ConnectionString);
        using (var conn = new NpgsqlConnection(server.ConnectionString))
        {
            conn.Open();
            using var cmd = new NpgsqlCommand("CREATE TABLE t (id int PRIMARY KEY, grp text, v bigint, note text); ALTER TABLE t REPLICA IDENTITY FULL", conn);
            cmd.ExecuteNonQuery();
        }
        string ddl = CdcDdl("src", "t", "slot_wal").Replace($"'port' = '{Server.Port}'", $"'port' = '{b.Port}'", StringComparison.Ordinal);
        string message = PlanError(PrintJob(ddl));
        Assert.Contains("wal_level = replica", message);
        Assert.Contains("needs wal_level = logical", message);
    }

    [Fact]
    public void Options_that_Eddy_does_not_implement_are_refused()
    {
        string source = SourceTable("cdc_opts", 1);
        Assert.Contains("Eddy decodes PostgreSQL's built-in pgoutput plug-in only",
            PlanError(PrintJob(CdcDdl("src", source, Slot("slot_o1")).Replace("'pgoutput'", "'decoderbufs'", StringComparison.Ordinal))));
        Assert.Contains("of the debezium.* options only 'debezium.publication.name' is supported",
            PlanError(PrintJob(CdcDdl("src", source, Slot("slot_o2"), options: ", 'debezium.snapshot.mode' = 'never'"))));
        Assert.Contains("'snapshot' is not supported by Eddy (a bounded read of the snapshot alone)",
            PlanError(PrintJob(CdcDdl("src", source, Slot("slot_o3"), options: ", 'scan.startup.mode' = 'snapshot'"))));
        Assert.Contains("'upsert' is not supported",
            PlanError(PrintJob(CdcDdl("src", source, Slot("slot_o4"), options: ", 'changelog-mode' = 'upsert'"))));
        Assert.Contains("looks like a regular expression",
            PlanError(PrintJob(CdcDdl("src", source + ".*", Slot("slot_o5")))));
        Assert.Contains("postgres-cdc is a source only",
            PlanError(CdcDdl("src", source, Slot("slot_o6")) + "\nINSERT INTO src VALUES (1, 'a', 1, 'b');"));
    }

    private static long SourceRecordsOut(JobExecution job) =>
        job.Metrics.Where(m => m.TaskName.Contains("src", StringComparison.Ordinal)).Sum(m => Volatile.Read(ref m.RecordsOut));

    private static ulong ConfirmedLsn(string slot) =>
        (ulong)(NpgsqlTypes.NpgsqlLogSequenceNumber)PgServer.Query($"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{slot}'")[0][0]!;

    private static ulong CurrentLsn() => (ulong)(NpgsqlTypes.NpgsqlLogSequenceNumber)PgServer.Query("SELECT pg_current_wal_lsn()")[0][0]!;

    public void Dispose()
    {
        foreach (var slot in slots)
        {
            // A cancelled job's walsender may take a moment to let go of its slot.
            for (int attempt = 0; attempt < 100; attempt++)
            {
                try
                {
                    PgServer.Execute($"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{slot}'");
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
                {
                    Thread.Sleep(100);
                }
            }
        }
        folder.Delete(recursive: true);
    }
}
