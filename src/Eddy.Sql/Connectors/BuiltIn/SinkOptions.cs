using Eddy.Runtime;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Sql.Connectors.BuiltIn;

/// <summary>The options the built-in sinks share: the sink's parallelism and Eddy's slow-sink option.</summary>
internal static class SinkOptions
{
    /// <summary>Read by the planner (<c>SinkTranslator</c>), declared here so that the schema knows it.</summary>
    internal static readonly ConnectorOption<int> Parallelism =
        Option.Int("sink.parallelism", "the sink's parallelism (default: the input's)", min: 1);

    internal static readonly ConnectorOption<double> RowsPerSecond =
        Option.Double("sink.rows-per-second", "Eddy: at most this many rows per second per sink subtask, a deliberately slow sink whose upstream shows backpressure", positive: true);

    /// <summary>The sink, slowed down to <see cref="RowsPerSecond"/> when the table sets it (a backpressure demo).</summary>
    internal static Sink<T> ThrottledIfAsked<T>(ConnectorOptions options, Sink<T> sink) =>
        options.Find(RowsPerSecond) is { } rate ? new ThrottledSink<T>(sink, rate) : sink;
}
