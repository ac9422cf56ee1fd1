using Eddy.Runtime;
using Eddy.Sql.Catalog;

namespace Eddy.Sql.Connectors.BuiltIn;

/// <summary>What the built-in sinks share: Eddy's slow-sink option, and refusing options they do not know.</summary>
internal static class SinkOptions
{
    /// <summary>Eddy's slow-sink option of print and blackhole: at most this many rows per second per sink subtask.</summary>
    internal const string RowsPerSecondOption = "sink.rows-per-second";

    /// <summary>The sink, slowed down to <see cref="RowsPerSecondOption"/> when the table sets it (a backpressure demo).</summary>
    internal static Sink<T> ThrottledIfAsked<T>(TableDef table, Sink<T> sink)
    {
        if (!table.Options.TryGetValue(RowsPerSecondOption, out var text)) return sink;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double rate)
            || !(rate > 0) || double.IsInfinity(rate))
            throw new ConnectorOptionException(table.Name, RowsPerSecondOption, $"expected a positive number of rows per second, got '{text}'");
        return new ThrottledSink<T>(sink, rate);
    }

    /// <summary>Fails on options the connector does not know (Flink does too: a typo must not be ignored).</summary>
    internal static void RequireKnown(TableDef table, IEnumerable<string> known)
    {
        var set = new HashSet<string>(known, StringComparer.Ordinal) { "connector" };
        foreach (var key in table.Options.Keys)
        {
            if (set.Contains(key)) continue;
            throw new ConnectorOptionException(table.Name, key, $"unknown option for connector '{table.Connector}'{SqlErrors.Suggest(key, set)}");
        }
    }
}
