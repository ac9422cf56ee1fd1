using Confluent.Kafka;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Repartition;

/// <summary>
/// The writing end of a repartition topic. Each record goes to the partition that owns its key group (key groups
/// split by range over the partitions, as subtasks own them in one process), so one key's records land in one
/// partition; it carries its source position (partition and offset), and its ordinal when its source record made
/// several records (a HOP or CUMULATE window table function), so that the reader can drop a replay. A watermark,
/// and each change of the task's watermark status (idle / active, as the source's idle timeout decides it), goes to
/// every partition as a control message per source partition the task reads. Records are gathered per partition and
/// sent many to a message.
/// </summary>
internal sealed class RepartitionSink<T>(KafkaRepartitionExchange exchange, RepartitionTopic topic, Func<T, int> keyHash, int maxParallelism) : Sink<T>
{
    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(exchange, topic, keyHash, maxParallelism, context);

    private sealed class Writer : SinkWriter<T>
    {
        private readonly KafkaRepartitionExchange exchange;
        private readonly string topicName;
        private readonly Func<T, int> keyHash;
        private readonly int maxParallelism;
        private readonly int partitions;
        /// <summary>Key group → partition of the topic.</summary>
        private readonly int[] partitionOfKeyGroup;
        /// <summary>The source partitions this task reads: each gets the task's watermark.</summary>
        private readonly int[] sourcePartitions;
        private readonly StateSerializer<T> serializer = StateSerializers.For<T>();
        private readonly IProducer<Null, byte[]> producer;
        private readonly MemoryStream[] buffers;
        private readonly BinaryWriter[] writers;
        private readonly int[] counts;
        private readonly TopicPartition[] targets;
        private readonly Action<DeliveryReport<Null, byte[]>> onDelivery;
        private string? failure;
        private long sentWatermark = EventTime.MinWatermark;
        private bool idle;

        public Writer(KafkaRepartitionExchange exchange, RepartitionTopic topic, Func<T, int> keyHash, int maxParallelism, SinkWriterContext context)
        {
            this.exchange = exchange;
            topicName = topic.Name;
            this.keyHash = keyHash;
            this.maxParallelism = maxParallelism;
            KafkaNative.EnsureLoaded();
            int upstream = topic.UpstreamSourcePartitions();
            partitions = topic.ResolvePartitions();
            if (partitions > maxParallelism)
                throw new InvalidOperationException($"repartition topic '{topicName}': {partitions} partitions exceed the {maxParallelism} key groups ('pipeline.max-parallelism')");
            exchange.EnsureTopic(topicName, partitions);
            partitionOfKeyGroup = new int[maxParallelism];
            for (int g = 0; g < maxParallelism; g++) partitionOfKeyGroup[g] = KeyGroups.SubtaskFor(g, maxParallelism, partitions);
            // A partition task reads its partitions; otherwise subtask i reads the partitions i, i + p, ... (KafkaSource's split).
            sourcePartitions = context.PartitionTask is { } own ? (own.Partition < upstream ? [own.Partition] : [])
                : [.. Enumerable.Range(0, upstream).Where(p => p % context.Parallelism == context.SubtaskIndex)];
            buffers = new MemoryStream[partitions];
            writers = new BinaryWriter[partitions];
            counts = new int[partitions];
            targets = new TopicPartition[partitions];
            for (int q = 0; q < partitions; q++)
            {
                buffers[q] = new MemoryStream();
                writers[q] = new BinaryWriter(buffers[q]);
                targets[q] = new TopicPartition(topicName, new Partition(q));
            }
            onDelivery = report =>
            {
                if (report.Error.IsError)
                    Interlocked.CompareExchange(ref failure, $"repartition topic '{report.Topic}' partition {report.Partition.Value}: delivery failed: {report.Error.Reason}", null);
            };
            producer = new ProducerBuilder<Null, byte[]>(exchange.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            // Says "started" to every reader: ACTIVE per source partition (a task starts active, as a source does in one
            // process; after a restart this ends the IDLE its predecessor may have sent). A reader holds back a source
            // partition it has not heard from, whose task may not have started yet.
            SendStatus(idle: false);
        }

        public override void Write(Batch<T> batch)
        {
            ThrowIfFailed();
            var positions = SourcePositions.Of(batch) ?? throw new InvalidOperationException(
                $"repartition topic '{topicName}': the records arrive without their source positions (the writer must be chained right after a Kafka source)");
            // Several records of one source record (a HOP window table function's) carry ordinals to tell them apart.
            var ordinals = SourcePositions.OrdinalsOf(batch);
            byte type = ordinals is null ? RepartitionFormat.Records : RepartitionFormat.OrdinalRecords;
            var values = batch.Values;
            var timestamps = batch.Timestamps;
            var table = partitionOfKeyGroup;
            for (int i = 0; i < batch.Count; i++)
            {
                if (positions[i] < 0)
                {
                    throw new InvalidOperationException(
                        $"repartition topic '{topicName}': a change of the source has no position (its record gives more than {SourcePositions.ChangesPerRecord} "
                        + $"changes, or its offset is above {SourcePositions.MaxOffset / SourcePositions.ChangesPerRecord}), so a replay of it could not be told apart; run the job with 'eddy run'");
                }
                int q = table[KeyGroups.ForHash(keyHash(values[i]), maxParallelism)];
                var w = writers[q];
                if (counts[q] == 0) w.Write(type);
                if (counts[q] == 0) w.Write(0); // the count, filled in when the message is sent
                w.Write(positions[i]);
                if (ordinals is not null) w.Write(ordinals[i]);
                w.Write(timestamps[i]);
                w.Write((byte)batch.KindAt(i));
                serializer.Write(w, values[i]);
                if (++counts[q] == RepartitionFormat.MaxRecords || buffers[q].Length >= RepartitionFormat.TargetBytes) Send(q);
            }
            // One message per partition and written batch: the batch's records leave together.
            for (int q = 0; q < counts.Length; q++)
                if (counts[q] > 0) Send(q);
        }

        private void Send(int q)
        {
            var buffer = buffers[q];
            var bytes = buffer.ToArray();
            BitConverter.TryWriteBytes(bytes.AsSpan(1, 4), counts[q]);
            buffer.SetLength(0);
            counts[q] = 0;
            Produce(q, bytes);
        }

        private void Produce(int q, byte[] bytes)
        {
            while (true)
            {
                try
                {
                    producer.Produce(targets[q], new Message<Null, byte[]> { Value = bytes }, onDelivery);
                    return;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: let it deliver (backpressure), then try again.
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }

        public override void OnWatermark(long watermark)
        {
            if (watermark <= sentWatermark) return;
            ThrowIfFailed();
            sentWatermark = watermark;
            SendWatermark(watermark);
        }

        private void SendWatermark(long watermark)
        {
            // After every record sent before it, in each partition: the producer keeps their order.
            var message = new byte[RepartitionFormat.WatermarkLength];
            message[0] = RepartitionFormat.Watermark;
            BitConverter.TryWriteBytes(message.AsSpan(5, 8), watermark);
            SendControl(message);
        }

        /// <summary>
        /// The task's output turned idle or active: its source partitions did (the task reads only them). Records are
        /// sent as each batch is written, so the status follows every record before it in each partition.
        /// </summary>
        public override void OnWatermarkStatus(bool idle)
        {
            if (idle == this.idle) return;
            ThrowIfFailed();
            this.idle = idle;
            SendStatus(idle);
        }

        private void SendStatus(bool idle)
        {
            var message = new byte[RepartitionFormat.StatusLength];
            message[0] = RepartitionFormat.Status;
            message[5] = idle ? RepartitionFormat.Idle : RepartitionFormat.Active;
            SendControl(message);
        }

        /// <summary>Sends a control message to every partition, once per source partition (its number at bytes 1–4).</summary>
        private void SendControl(byte[] message)
        {
            foreach (int source in sourcePartitions)
            {
                var bytes = (byte[])message.Clone();
                BitConverter.TryWriteBytes(bytes.AsSpan(1, 4), source);
                for (int q = 0; q < partitions; q++) Produce(q, bytes);
            }
        }

        /// <summary>Waits until everything sent is stored: before a checkpoint's barrier passes and at the end of input.</summary>
        public override void Flush()
        {
            var deadline = DateTime.UtcNow + exchange.RequestTimeout;
            while (producer.Flush(TimeSpan.FromMilliseconds(100)) > 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException($"repartition topic '{topicName}': records not delivered within {exchange.RequestTimeout.TotalSeconds:F0} s");
            }
            ThrowIfFailed();
        }

        // Nothing to restore: a restored upstream sends again from its checkpointed source offsets, and the reader
        // drops what it has already applied.
        public override void SnapshotState(long checkpointId, BinaryWriter state) => Flush();

        private void ThrowIfFailed()
        {
            if (Volatile.Read(ref failure) is { } f) throw new InvalidOperationException(f);
        }

        public override void Dispose()
        {
            producer.Dispose();
            foreach (var w in writers) w.Dispose();
            base.Dispose();
        }
    }
}
