using Eddy.Runtime;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>
/// The exactly-once protocol driven the way the checkpointing runtime drives it: rows, a barrier (SnapshotState), a
/// completion (NotifyCheckpointComplete); crashes simulated by disposing a writer between the two, restores by a new
/// writer given the state bytes.
/// </summary>
public class ExactlyOnceTests
{
    private static readonly PostgresSinkSettings Settings = new(MaxRows: 2, FlushInterval: TimeSpan.Zero);

    private static SinkWriterContext Context(string job, int subtask = 0, int parallelism = 1, RestoredState? restored = null) =>
        new(subtask, parallelism, TimeProvider.System, new SubtaskMetrics("sink", subtask))
        {
            JobName = job, OperatorId = "sink-1", CheckpointingEnabled = true, Restored = restored,
        };

    private static void Write(SinkWriter<Row> writer, params (RowKind Kind, Row Row)[] records)
    {
        var batch = new Batch<Row>();
        foreach (var (kind, row) in records) batch.Add(row, 0, kind);
        writer.Write(batch);
    }

    private static (RowKind, Row) I(params object?[] f) => (RowKind.Insert, Row.Of(f));

    private static byte[] Snapshot(SinkWriter<Row> writer, long checkpoint)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream)) writer.SnapshotState(checkpoint, w);
        return stream.ToArray();
    }

    private static (string Table, PostgresSink Sink) AppendTable(string name)
    {
        string table = PgServer.UniqueName(name);
        PgServer.Execute($"CREATE TABLE {table} (k text, n int)");
        return (table, PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.String), ("n", DataType.Int)), [], Settings));
    }

    private static List<object?[]> Rows(string table) => PgServer.Query($"SELECT k, n FROM {table} ORDER BY k, n");

    private static long? Progress(string job, int subtask)
    {
        var rows = PgServer.Query($"SELECT epoch FROM {PostgresSink.ProgressTable} WHERE job = '{job}' AND sink = 'sink-1' AND subtask = {subtask}");
        return rows.Count == 0 ? null : (long)rows[0][0]!;
    }

    [Fact]
    public void Rows_become_visible_when_their_checkpoint_completes_with_a_progress_row()
    {
        var (table, sink) = AppendTable("eo_append");
        string job = PgServer.UniqueName("job");
        using var writer = sink.CreateWriter(Context(job));
        Write(writer, I("a", 1), I("b", 2), I("c", 3)); // more than max-rows: nothing is written before the checkpoint
        Assert.Empty(Rows(table));
        Snapshot(writer, 1);
        Write(writer, I("d", 4));
        Assert.Empty(Rows(table));
        writer.NotifyCheckpointComplete(1);
        Assert.Equal([["a", 1], ["b", 2], ["c", 3]], Rows(table));
        Assert.Equal(1, Progress(job, 0));
        Snapshot(writer, 2);
        writer.NotifyCheckpointComplete(2);
        Assert.Equal(4, Rows(table).Count);
        Assert.Equal(2, Progress(job, 0));
    }

    [Fact]
    public void A_crash_between_barrier_and_commit_loses_nothing_and_a_second_restore_doubles_nothing()
    {
        var (table, sink) = AppendTable("eo_crash");
        string job = PgServer.UniqueName("job");
        byte[] state;
        using (var writer = sink.CreateWriter(Context(job)))
        {
            Write(writer, I("a", 1), I("b", 2));
            Snapshot(writer, 1);
            writer.NotifyCheckpointComplete(1);
            Write(writer, I("c", 3), I("d", 4), I("e", 5));
            state = Snapshot(writer, 2);
            Write(writer, I("f", 6)); // after the barrier: replayed by the source after the restore, not the sink's
        } // the crash: checkpoint 2 completed in the coordinator, the notification never arrived
        Assert.Equal([["a", 1], ["b", 2]], Rows(table));

        using (var restored = sink.CreateWriter(Context(job, restored: new RestoredState(2, [state], 1))))
        {
            Assert.Equal([["a", 1], ["b", 2], ["c", 3], ["d", 4], ["e", 5]], Rows(table));
            Assert.Equal(2, Progress(job, 0));
        }
        // A second failure restores the same checkpoint again: its epoch is in the progress table, so nothing is rewritten.
        using (sink.CreateWriter(Context(job, restored: new RestoredState(2, [state], 1))))
            Assert.Equal(5, Rows(table).Count);
    }

    [Fact]
    public void A_missed_notification_is_made_up_by_the_next_one()
    {
        var (table, sink) = AppendTable("eo_missed");
        string job = PgServer.UniqueName("job");
        using var writer = sink.CreateWriter(Context(job));
        Write(writer, I("a", 1));
        Snapshot(writer, 1);
        Write(writer, I("b", 2));
        var state = Snapshot(writer, 2);
        writer.NotifyCheckpointComplete(2);
        Assert.Equal([["a", 1], ["b", 2]], Rows(table));
        Assert.Equal(2, Progress(job, 0));
        writer.NotifyCheckpointComplete(1); // late and already covered
        Assert.Equal(2, Rows(table).Count);
        // The state of checkpoint 2 held both epochs; a restore from it writes neither again.
        using (sink.CreateWriter(Context(job, restored: new RestoredState(2, [state], 1)))) { }
        Assert.Equal(2, Rows(table).Count);
    }

    [Fact]
    public void Rescaling_from_two_subtasks_to_one_commits_both_old_states_once()
    {
        var (table, sink) = AppendTable("eo_rescale");
        string job = PgServer.UniqueName("job");
        byte[] s0, s1;
        using (var w0 = sink.CreateWriter(Context(job, 0, 2)))
        using (var w1 = sink.CreateWriter(Context(job, 1, 2)))
        {
            Write(w0, I("a", 1), I("b", 2));
            Write(w1, I("c", 3));
            s0 = Snapshot(w0, 7);
            s1 = Snapshot(w1, 7);
            // Subtask 0 got its notification before the crash, subtask 1 did not.
            w0.NotifyCheckpointComplete(7);
        }
        Assert.Equal([["a", 1], ["b", 2]], Rows(table));
        using (var w = sink.CreateWriter(Context(job, 0, 1, new RestoredState(7, [s0, s1], 2))))
        {
            Assert.Equal([["a", 1], ["b", 2], ["c", 3]], Rows(table));
            Assert.Equal(7, Progress(job, 1));
            // The new writer goes on under its own subtask with later checkpoints.
            Write(w, I("d", 4));
            Snapshot(w, 8);
            w.NotifyCheckpointComplete(8);
        }
        Assert.Equal(4, Rows(table).Count);
        Assert.Equal(8, Progress(job, 0));
    }

    [Fact]
    public void A_fresh_start_of_the_same_job_does_not_mistake_old_progress_for_its_own()
    {
        var (table, sink) = AppendTable("eo_fresh");
        string job = PgServer.UniqueName("job");
        using (var w = sink.CreateWriter(Context(job)))
        {
            Write(w, I("a", 1));
            Snapshot(w, 5);
            w.NotifyCheckpointComplete(5);
        }
        using (var w = sink.CreateWriter(Context(job)))
        {
            Write(w, I("b", 2));
            Snapshot(w, 1);
            w.NotifyCheckpointComplete(1);
        }
        Assert.Equal([["a", 1], ["b", 2]], Rows(table));
    }

    [Fact]
    public void At_least_once_writes_at_the_barrier_and_none_does_not_wait_for_it()
    {
        var (table, _) = AppendTable("eo_modes");
        var schema = Schema.Of(("k", DataType.String), ("n", DataType.Int));
        var atLeastOnce = PostgresSink.Open(PgServer.ConnectionString, table, schema, [],
            Settings with { MaxRows = 100, Guarantee = PgDeliveryGuarantee.AtLeastOnce });
        using (var w = atLeastOnce.CreateWriter(Context(PgServer.UniqueName("job"))))
        {
            Write(w, I("a", 1));
            Snapshot(w, 1);
            Assert.Single(Rows(table));
        }
        var none = PostgresSink.Open(PgServer.ConnectionString, table, schema, [], Settings with { MaxRows = 100, Guarantee = PgDeliveryGuarantee.None });
        using (var w = none.CreateWriter(Context(PgServer.UniqueName("job"))))
        {
            Write(w, I("b", 1));
            Assert.Empty(Snapshot(w, 1));
            Assert.Single(Rows(table));
            w.Flush();
        }
        Assert.Equal(2, Rows(table).Count);
    }

    [Fact]
    public void At_least_once_barrier_commits_every_row_of_a_copy_whose_connection_was_dropped()
    {
        // The open COPY holds chunks sent but not committed; the server ends the session under it. The barrier must
        // still make every row before it durable, once (the chunks are resent on a new connection), or a restore
        // from that checkpoint would skip them.
        string table = PgServer.UniqueName("alo_dropped");
        PgServer.Execute($"CREATE TABLE {table} (k text, n int)");
        string app = PgServer.UniqueName("eddy_alo");
        var conn = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString) { ApplicationName = app }.ConnectionString;
        var sink = PostgresSink.Open(conn, table, Schema.Of(("k", DataType.String), ("n", DataType.Int)), [],
            Settings with { MaxRows = 10, Guarantee = PgDeliveryGuarantee.AtLeastOnce });
        using var writer = sink.CreateWriter(Context(PgServer.UniqueName("job")));
        int next = 0;
        void WriteRows(int count)
        {
            for (int end = next + count; next < end; next++) Write(writer, I("r", next));
        }
        int Terminate() => (int)PgServer.Query($"SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = '{app}'")[0][0]!;
        List<int> Committed() => PgServer.Query($"SELECT n FROM {table} ORDER BY n").Select(r => (int)r[0]!).ToList();

        WriteRows(95); // nine chunks sent into the open COPY, five rows pending
        Assert.Empty(Committed());
        Assert.True(Terminate() >= 1);
        WriteRows(50); // the next chunk meets the dead session
        Snapshot(writer, 1);
        Assert.Equal(Enumerable.Range(0, 145), Committed());

        WriteRows(30);
        Assert.True(Terminate() >= 1); // dropped with chunks sent and none written since
        Snapshot(writer, 2);
        Assert.Equal(Enumerable.Range(0, 175), Committed());
    }

    [Fact]
    public void Upserts_and_deletes_of_an_epoch_survive_a_crash_and_apply_in_epoch_order()
    {
        string table = PgServer.UniqueName("eo_upsert");
        PgServer.Execute($"CREATE TABLE {table} (k text PRIMARY KEY, n int)");
        var sink = PostgresSink.Open(PgServer.ConnectionString, table, Schema.Of(("k", DataType.String.NotNull()), ("n", DataType.Int)), ["k"], Settings);
        string job = PgServer.UniqueName("job");
        byte[] state;
        using (var writer = sink.CreateWriter(Context(job)))
        {
            Write(writer, I("a", 1), I("b", 1), I("c", 1));
            Snapshot(writer, 1);
            writer.NotifyCheckpointComplete(1);
            Write(writer, (RowKind.UpdateBefore, Row.Of("a", 1)), (RowKind.UpdateAfter, Row.Of("a", 2)), (RowKind.Delete, Row.Of("b", 1)));
            Snapshot(writer, 2);
            Write(writer, (RowKind.Delete, Row.Of("a", 2)), I("b", 9), (RowKind.UpdateAfter, Row.Of("c", 5)));
            state = Snapshot(writer, 3);
        }
        Assert.Equal([["a", 1], ["b", 1], ["c", 1]], Rows(table));
        using (sink.CreateWriter(Context(job, restored: new RestoredState(3, [state], 1))))
            Assert.Equal([["b", 9], ["c", 5]], Rows(table));
        using (sink.CreateWriter(Context(job, restored: new RestoredState(3, [state], 1))))
            Assert.Equal([["b", 9], ["c", 5]], Rows(table));
        Assert.Equal(3, Progress(job, 0));
    }

    [Fact]
    public void End_of_input_stages_the_rest_until_the_checkpoint_holding_it_completes()
    {
        var (table, sink) = AppendTable("eo_end");
        string job = PgServer.UniqueName("job");
        byte[] state;
        using (var writer = sink.CreateWriter(Context(job)))
        {
            Assert.True(writer.CommitsAtCheckpoints);
            Write(writer, I("a", 1));
            Snapshot(writer, 1);
            Write(writer, I("b", 2));
            // The end of input as the runtime drives it: the rest goes into the final snapshot, under the next id.
            state = Snapshot(writer, 2);
            Assert.Empty(Rows(table));
            writer.NotifyCheckpointComplete(2);
            writer.Flush();
            Assert.Equal([["a", 1], ["b", 2]], Rows(table));
        }
        // A restore of that final checkpoint repeats nothing.
        using (sink.CreateWriter(Context(job, restored: new RestoredState(2, [state], 1))))
            Assert.Equal([["a", 1], ["b", 2]], Rows(table));
    }
}
