using System.Runtime.InteropServices;

namespace Eddy.Connectors.Kafka;

/// <summary>The librdkafka functions Eddy calls itself (Confluent.Kafka does not expose the mock cluster API).</summary>
internal static partial class Native
{
    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_version_str();

    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(KafkaNative.Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, nuint errstrSize);

    [LibraryImport(KafkaNative.Library)]
    internal static partial void rd_kafka_conf_destroy(IntPtr conf);

    /// <summary>Takes ownership of <paramref name="conf"/> on success only.</summary>
    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, nuint errstrSize);

    [LibraryImport(KafkaNative.Library)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(KafkaNative.Library)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [LibraryImport(KafkaNative.Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(KafkaNative.Library)]
    internal static partial IntPtr rd_kafka_err2str(int err);

    /// <summary>The array form: the other one is variadic, which P/Invoke cannot call portably.</summary>
    [LibraryImport(KafkaNative.Library)]
    internal static partial void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, nuint count, int[] errors);

    internal static string Error(byte[] errstr)
    {
        int n = Array.IndexOf(errstr, (byte)0);
        return System.Text.Encoding.UTF8.GetString(errstr, 0, n < 0 ? errstr.Length : n);
    }
}
