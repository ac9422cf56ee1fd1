using Confluent.Kafka;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>How a Kafka sink picks the partition of a record (Flink's <c>sink.partitioner</c>).</summary>
public enum KafkaSinkPartitioner
{
    /// <summary>By the key's hash (murmur2, as the Java client) when the record has a key, else round-robin.</summary>
    Default,
    /// <summary>Each subtask cycles through all partitions.</summary>
    RoundRobin,
    /// <summary>Subtask i writes only to partition i mod the partition count.</summary>
    Fixed,
}

/// <summary>What a Kafka sink promises about delivery (Flink's <c>sink.delivery-guarantee</c>).</summary>
public enum KafkaDeliveryGuarantee
{
    /// <summary>Records are sent; failed deliveries are not reported.</summary>
    None,
    /// <summary>At the end of input every record is confirmed by the broker, or the job fails naming where.</summary>
    AtLeastOnce,
    /// <summary>
    /// Kafka transactions, one per checkpoint interval and subtask, committed when the checkpoint completes (needs
    /// checkpointing and <see cref="KafkaSinkOptions.TransactionalIdPrefix"/>).
    /// </summary>
    ExactlyOnce,
}

/// <summary>A record's key and value bytes; false skips the record (an upsert sink's -U). A null value is a tombstone.</summary>
public delegate bool KafkaRecordSerializer<T>(T value, RowKind kind, out byte[]? key, out byte[]? message, out long timestamp);

public sealed record KafkaSinkOptions
{
    public required string Topic { get; init; }

    public required string BootstrapServers { get; init; }

    public KafkaSinkPartitioner Partitioner { get; init; } = KafkaSinkPartitioner.Default;

    public KafkaDeliveryGuarantee DeliveryGuarantee { get; init; } = KafkaDeliveryGuarantee.AtLeastOnce;

    /// <summary>Further librdkafka producer properties (already in librdkafka's names).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>How long the partition look-up and the final flush may take before the job fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether a -U directly followed by the +U of the same key is left out (upsert-kafka: the +U replaces the value).
    /// A changelog format writes both.
    /// </summary>
    public bool CollapseUpdateBefore { get; init; } = true;

    /// <summary>For <see cref="KafkaDeliveryGuarantee.ExactlyOnce"/>: transactional ids are <c>prefix-subtask-epoch</c>.</summary>
    public string? TransactionalIdPrefix { get; init; }

    /// <summary>Receives each transactional client call (init, begin, commit, abort, re-send) as a line: for tests and diagnostics.</summary>
    internal Action<string>? TransactionLog { get; init; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Topic) || Topic.Contains(';'))
            throw new ArgumentException("Kafka sink: 'topic' needs exactly one topic name");
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("Kafka sink: 'properties.bootstrap.servers' is required");
        if (DeliveryGuarantee == KafkaDeliveryGuarantee.ExactlyOnce && string.IsNullOrWhiteSpace(TransactionalIdPrefix))
            throw new ArgumentException("Kafka sink: 'sink.delivery-guarantee' = 'exactly-once' needs 'sink.transactional-id-prefix'");
    }

    internal ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig(Properties.ToDictionary(p => p.Key, p => p.Value)) { BootstrapServers = BootstrapServers };
        // The Java client hashes keys with murmur2; the same partitioner puts a key where Flink would.
        if (!Properties.ContainsKey("partitioner")) config.Partitioner = Confluent.Kafka.Partitioner.Murmur2Random;
        if (!Properties.ContainsKey("linger.ms")) config.LingerMs = 5;
        return config;
    }
}

/// <summary>
/// Writes records to one Kafka topic, one producer per subtask. Partitions are chosen by
/// <see cref="KafkaSinkOptions.Partitioner"/>; a -U immediately followed in a batch by a +U with the same key is not
/// written (the +U replaces it); with at-least-once, <see cref="SinkWriter{T}.Flush"/> waits for every
/// delivery report and fails on the first failed delivery, naming topic and partition.
/// </summary>
public sealed class KafkaSink<T> : Sink<T>
{
    private readonly KafkaSinkOptions options;
    private readonly Func<KafkaRecordSerializer<T>> createSerializer;

    /// <param name="createSerializer">Called once per writer, so that a serializer may keep buffers without locking.</param>
    public KafkaSink(KafkaSinkOptions options, Func<KafkaRecordSerializer<T>> createSerializer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createSerializer);
        options.Validate();
        this.options = options;
        this.createSerializer = createSerializer;
    }

    public KafkaSinkOptions Options => options;

    public override SinkWriter<T> CreateWriter(SinkWriterContext context)
    {
        if (options.DeliveryGuarantee != KafkaDeliveryGuarantee.ExactlyOnce) return new Writer(options, createSerializer(), context.SubtaskIndex);
        if (!context.CheckpointingEnabled)
            throw new InvalidOperationException(
                "Kafka sink: 'sink.delivery-guarantee' = 'exactly-once' needs checkpointing ('execution.checkpointing.interval'): its transactions are committed when checkpoints complete; use 'at-least-once' without checkpoints");
        return new Writer(options, createSerializer(), context.SubtaskIndex, context);
    }

    /// <summary>
    /// One subtask's producer. With exactly-once, each checkpoint interval is one Kafka transaction with its own
    /// producer and transactional id <c>prefix-subtask-epoch</c> (librdkafka runs one transaction per producer, and a
    /// transaction must stay open until its checkpoint completes while the next interval's records are written). The
    /// records of every transaction not yet committed are also kept in memory and written into the checkpoint: a
    /// restored writer cannot commit another producer's transaction (librdkafka cannot resume it; InitTransactions with
    /// its id aborts it), so it looks whether the transaction's first record is visible to a read_committed consumer and,
    /// if not, sends the records again in a new transaction under the same id and commits it.
    /// </summary>
    private sealed class Writer : SinkWriter<T>
    {
        private const byte StateVersion = 1;
        /// <summary>Epochs after the last checkpointed one whose lingering transactions a restored writer aborts.</summary>
        private const int AbortLookahead = 3;

        private readonly KafkaSinkOptions options;
        private readonly KafkaRecordSerializer<T> serialize;
        private IProducer<byte[]?, byte[]?> producer;
        private readonly Action<DeliveryReport<byte[]?, byte[]?>> onDelivery;
        private readonly int partitions;
        private readonly int subtask;
        private long next;
        private string? firstFailure;

        private readonly bool transactional;
        private readonly Eddy.Runtime.Distributed.PartitionTaskScope? partitionTask;
        private long epoch;
        private Transaction? open;
        /// <summary>Transactions closed at a checkpoint barrier, by checkpoint id, waiting for the checkpoint to complete.</summary>
        private readonly SortedDictionary<long, Transaction> pending = [];

        private sealed class Transaction(string id, IProducer<byte[]?, byte[]?> producer)
        {
            public string Id { get; } = id;
            public IProducer<byte[]?, byte[]?> Producer { get; } = producer;
            public List<(int Partition, byte[]? Key, byte[]? Value, long Timestamp)> Records { get; } = [];

            /// <summary>The delivery handler of this transaction's records (the writer's, plus the marker).</summary>
            public Action<DeliveryReport<byte[]?, byte[]?>>? Handler { get; set; }
            private readonly Lock gate = new();
            private int markerPartition = -1;
            private long markerOffset = -1;

            /// <summary>The first record the broker stored for this transaction: what a restored writer looks for.</summary>
            public (int Partition, long Offset) Marker
            {
                get
                {
                    lock (gate) return (markerPartition, markerOffset);
                }
            }

            public void Delivered(int partition, long offset)
            {
                lock (gate)
                {
                    if (markerPartition < 0 || (markerPartition == partition && offset < markerOffset))
                    {
                        markerPartition = partition;
                        markerOffset = offset;
                    }
                }
            }
        }

        public Writer(KafkaSinkOptions options, KafkaRecordSerializer<T> serialize, int subtask, SinkWriterContext? context = null)
        {
            this.options = options;
            this.serialize = serialize;
            this.subtask = subtask;
            partitionTask = context?.PartitionTask;
            transactional = options.DeliveryGuarantee == KafkaDeliveryGuarantee.ExactlyOnce;
            KafkaNative.EnsureLoaded();
            onDelivery = report =>
            {
                if (report.Error.IsError)
                    Interlocked.CompareExchange(ref firstFailure,
                        $"Kafka sink: delivery to topic '{report.Topic}' partition {report.Partition.Value} failed: {report.Error.Reason}", null);
            };
            producer = new ProducerBuilder<byte[]?, byte[]?>(options.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            try
            {
                partitions = PartitionCount();
                if (transactional)
                {
                    // The partition look-up's producer is not transactional; each transaction gets its own.
                    producer.Dispose();
                    epoch = Restore(context!);
                    BeginNext();
                }
            }
            catch
            {
                producer.Dispose();
                throw;
            }
            // Round-robin starts at the subtask's own partition so that parallel writers do not all begin at 0.
            next = subtask;
        }

        private void Log(string line) => options.TransactionLog?.Invoke(line);

        /// <summary>
        /// <c>prefix-subtask-epoch</c>; under <c>eddy worker</c> <c>prefix-s&lt;stage&gt;-p&lt;partition&gt;-epoch</c>: one id
        /// sequence per input partition (Kafka Streams' model), so that the next owner of the partition fences a zombie.
        /// </summary>
        private string TransactionalId(int ofSubtask, long ofEpoch) => partitionTask is { } task
            ? $"{options.TransactionalIdPrefix}-{task.Tag}-{ofEpoch}"
            : $"{options.TransactionalIdPrefix}-{ofSubtask}-{ofEpoch}";

        /// <summary>A transactional producer for an id, initialized: any transaction left open under the id is aborted.</summary>
        private IProducer<byte[]?, byte[]?> InitProducer(string id)
        {
            var config = options.ProducerConfig();
            config.TransactionalId = id;
            config.EnableIdempotence = true;
            var built = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
            try
            {
                built.InitTransactions(options.RequestTimeout);
            }
            catch
            {
                built.Dispose();
                throw;
            }
            Log($"init {id}");
            return built;
        }

        private void BeginNext()
        {
            string id = TransactionalId(subtask, epoch);
            var p = InitProducer(id);
            var t = new Transaction(id, p);
            t.Handler = report =>
            {
                onDelivery(report);
                if (!report.Error.IsError) t.Delivered(report.Partition.Value, report.Offset.Value);
            };
            open = t;
            p.BeginTransaction();
            Log($"begin {id}");
            producer = p;
        }

        /// <summary>
        /// Finishes the transactions of the old subtasks this one takes over (its own and those of subtasks beyond the new
        /// parallelism, <c>j mod p == subtask</c>) and returns the first epoch this writer may use.
        /// </summary>
        private long Restore(SinkWriterContext context)
        {
            if (context.Restored is not { } restored) return 0;
            long firstEpoch = 0;
            int parallelism = context.Parallelism;
            for (int j = 0; j < restored.SubtaskStates.Count; j++)
            {
                var bytes = restored.SubtaskStates[j];
                if (bytes.Length == 0 || j % parallelism != subtask) continue;
                using var reader = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
                byte version = reader.ReadByte();
                if (version != StateVersion)
                    throw new InvalidDataException($"Kafka sink: checkpoint {restored.CheckpointId} has writer state version {version}; this build reads version {StateVersion}");
                int oldSubtask = reader.ReadInt32();
                long nextEpoch = reader.ReadInt64();
                int count = reader.ReadInt32();
                for (int t = 0; t < count; t++) RecoverTransaction(oldSubtask, reader);
                // Transactions the old writer opened after the barrier belong to no completed checkpoint: aborted.
                for (long e = nextEpoch; e < nextEpoch + AbortLookahead; e++)
                {
                    string id = TransactionalId(oldSubtask, e);
                    InitProducer(id).Dispose();
                    Log($"abort {id}");
                }
                if (oldSubtask == subtask) firstEpoch = Math.Max(firstEpoch, nextEpoch + AbortLookahead);
            }
            return firstEpoch;
        }

        private void RecoverTransaction(int oldSubtask, BinaryReader reader)
        {
            long ofEpoch = reader.ReadInt64();
            int markerPartition = reader.ReadInt32();
            long markerOffset = reader.ReadInt64();
            int n = reader.ReadInt32();
            var records = new List<(int, byte[]?, byte[]?, long)>(n);
            for (int i = 0; i < n; i++)
            {
                int partition = reader.ReadInt32();
                byte[]? key = ReadBytes(reader);
                byte[]? value = ReadBytes(reader);
                records.Add((partition, key, value, reader.ReadInt64()));
            }
            string id = TransactionalId(oldSubtask, ofEpoch);
            // Initializing the id fences the old producer and aborts the transaction if it was still open.
            var p = InitProducer(id);
            try
            {
                if (markerPartition >= 0 && Visible(markerPartition, markerOffset))
                {
                    Log($"committed {id}");
                    return;
                }
                p.BeginTransaction();
                foreach (var (partition, key, value, timestamp) in records)
                {
                    var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
                    if (timestamp != EventTime.None) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
                    if (partition < 0) p.Produce(options.Topic, message, onDelivery);
                    else p.Produce(new TopicPartition(options.Topic, partition), message, onDelivery);
                }
                p.CommitTransaction(options.RequestTimeout);
                Log($"re-sent {id} ({records.Count} records)");
                ThrowOnFailure();
            }
            finally
            {
                p.Dispose();
            }
        }

        /// <summary>Whether the record at the offset can be read with read_committed (its transaction committed).</summary>
        private bool Visible(int partition, long offset)
        {
            var config = new ConsumerConfig(options.Properties.ToDictionary(p => p.Key, p => p.Value))
            {
                BootstrapServers = options.BootstrapServers,
                GroupId = options.TransactionalIdPrefix + "-check",
                IsolationLevel = IsolationLevel.ReadCommitted,
                EnableAutoCommit = false,
                EnablePartitionEof = true,
            };
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
            var tp = new TopicPartition(options.Topic, partition);
            consumer.Assign(new TopicPartitionOffset(tp, offset));
            var deadline = DateTime.UtcNow + options.RequestTimeout;
            while (DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                // Aborted records are skipped by read_committed: the first record seen is past the marker, or the end.
                if (r.IsPartitionEOF) return false;
                return r.Offset.Value == offset;
            }
            throw new TimeoutException($"Kafka sink: could not tell whether the transaction with topic '{options.Topic}' partition {partition} offset {offset} committed");
        }

        private static byte[]? ReadBytes(BinaryReader reader)
        {
            int length = reader.ReadInt32();
            return length < 0 ? null : reader.ReadBytes(length);
        }

        private static void WriteBytes(BinaryWriter writer, byte[]? bytes)
        {
            writer.Write(bytes?.Length ?? -1);
            if (bytes is not null) writer.Write(bytes);
        }

        private int PartitionCount()
        {
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var deadline = DateTime.UtcNow + options.RequestTimeout;
            while (true)
            {
                var metadata = admin.GetMetadata(options.Topic, options.RequestTimeout);
                var topic = metadata.Topics.FirstOrDefault(t => t.Topic == options.Topic);
                if (topic is not null && !topic.Error.IsError && topic.Partitions.Count > 0) return topic.Partitions.Count;
                // A topic created by the request itself (auto-creation) answers with its leader unknown at first.
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException($"Kafka sink: topic '{options.Topic}' has no partitions: {topic?.Error.Reason ?? "not in the metadata"}");
                Thread.Sleep(100);
            }
        }

        private (bool Write, byte[]? Key, byte[]? Value, long Timestamp) Serialize(Batch<T> batch, int i)
        {
            bool write = serialize(batch.Values[i], batch.KindAt(i), out var key, out var value, out long timestamp);
            return (write, key, value, timestamp);
        }

        public override void Write(Batch<T> batch)
        {
            ThrowOnFailure();
            (bool Write, byte[]? Key, byte[]? Value, long Timestamp) lookahead = default;
            bool haveLookahead = false;
            for (int i = 0; i < batch.Count; i++)
            {
                var (write, key, value, timestamp) = haveLookahead ? lookahead : Serialize(batch, i);
                haveLookahead = false;
                if (!write) continue;
                if (options.CollapseUpdateBefore && batch.KindAt(i) == RowKind.UpdateBefore && i + 1 < batch.Count && batch.KindAt(i + 1) == RowKind.UpdateAfter)
                {
                    // A -U directly followed by the +U of the same key needs no record of its own: the +U replaces
                    // the value. A -U without one (a filter dropped the +U) is written, so the old value goes.
                    lookahead = Serialize(batch, i + 1);
                    haveLookahead = true;
                    if (lookahead.Write && key is not null && lookahead.Key is not null && key.AsSpan().SequenceEqual(lookahead.Key)) continue;
                }
                var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
                if (timestamp != EventTime.None) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
                int partition = options.Partitioner switch
                {
                    KafkaSinkPartitioner.Fixed => subtask % partitions,
                    KafkaSinkPartitioner.Default when key is not null => -1,
                    _ => (int)(next++ % partitions),
                };
                open?.Records.Add((partition, key, value, timestamp));
                Produce(partition, message);
            }
        }

        private void Produce(int partition, Message<byte[]?, byte[]?> message)
        {
            var handler = open?.Handler ?? onDelivery;
            while (true)
            {
                try
                {
                    if (partition < 0) producer.Produce(options.Topic, message, handler);
                    else producer.Produce(new TopicPartition(options.Topic, partition), message, handler);
                    return;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: wait for deliveries to free room (back-pressure on the job).
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }

        private void WaitForDeliveries()
        {
            var deadline = DateTime.UtcNow + options.RequestTimeout;
            while (producer.Flush(TimeSpan.FromSeconds(1)) > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    if (options.DeliveryGuarantee == KafkaDeliveryGuarantee.None) return;
                    throw new TimeoutException($"Kafka sink: records to topic '{options.Topic}' not confirmed within {options.RequestTimeout.TotalSeconds:F0} s");
                }
            }
            ThrowOnFailure();
        }

        /// <summary>
        /// After the end of input. With exactly-once the final snapshot closed the last interval's transaction and the
        /// final checkpoint committed it; what is left is the empty transaction begun after it.
        /// </summary>
        public override void Flush()
        {
            WaitForDeliveries();
            if (!transactional) return;
            foreach (var id in pending.Keys.ToList()) Commit(id);
            if (open is { } t)
            {
                t.Producer.CommitTransaction(options.RequestTimeout);
                Log($"commit {t.Id}");
                t.Producer.Dispose();
                open = null;
            }
        }

        /// <summary>
        /// At a barrier: at-least-once waits for every delivery; exactly-once also closes the interval's transaction
        /// (it stays open in Kafka until the checkpoint completes), writes every uncommitted transaction's records into
        /// the state, and begins the next one.
        /// </summary>
        public override bool CommitsAtCheckpoints => transactional;

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            WaitForDeliveries();
            if (!transactional) return;
            pending[checkpointId] = open!;
            epoch++;
            state.Write(StateVersion);
            state.Write(subtask);
            state.Write(epoch);
            state.Write(pending.Count);
            foreach (var t in pending.Values)
            {
                state.Write(long.Parse(t.Id[(t.Id.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
                var (markerPartition, markerOffset) = t.Marker;
                state.Write(markerPartition);
                state.Write(markerOffset);
                state.Write(t.Records.Count);
                foreach (var (partition, key, value, timestamp) in t.Records)
                {
                    state.Write(partition);
                    WriteBytes(state, key);
                    WriteBytes(state, value);
                    state.Write(timestamp);
                }
            }
            BeginNext();
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            foreach (var id in pending.Keys.Where(id => id <= checkpointId).ToList()) Commit(id);
        }

        private void Commit(long checkpointId)
        {
            var t = pending[checkpointId];
            FaultInjection.Reached(FaultInjection.SinkCommit);
            t.Producer.CommitTransaction(options.RequestTimeout);
            Log($"commit {t.Id}");
            t.Producer.Dispose();
            pending.Remove(checkpointId);
        }

        private void ThrowOnFailure()
        {
            if (options.DeliveryGuarantee != KafkaDeliveryGuarantee.None && Volatile.Read(ref firstFailure) is { } failure)
                throw new InvalidOperationException(failure);
        }

        public override void Dispose()
        {
            if (transactional)
            {
                // Uncommitted transactions are aborted; those of completed checkpoints are in the state and are
                // finished by the restored writer.
                foreach (var t in pending.Values.Append(open).OfType<Transaction>())
                {
                    try
                    {
                        t.Producer.AbortTransaction(TimeSpan.FromSeconds(5));
                        Log($"abort {t.Id}");
                    }
                    catch (KafkaException)
                    {
                        // The broker aborts it when the transaction times out or the id is initialized again.
                    }
                    t.Producer.Dispose();
                }
                pending.Clear();
                open = null;
            }
            else producer.Dispose();
            base.Dispose();
        }
    }
}
