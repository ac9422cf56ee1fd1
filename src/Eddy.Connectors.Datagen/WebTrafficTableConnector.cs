using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors;

/// <summary>
/// Eddy's generator of the Flink lab's web-traffic events as a table (<c>'connector' = 'web-traffic'</c>): any subset
/// of the columns url, referrer, user_agent, host, ip, headers, event_time, in any order.
/// </summary>
public sealed class WebTrafficTableConnector : ITableConnector
{
    public string Name => "web-traffic";

    public Eddy.Sql.Connectors.Options.OptionSchema OptionSchema => WebTrafficOptions.OptionSchema;

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var options = WebTrafficOptions.From(OptionSchema.Validate(table));
        var all = WebTrafficEvent.Schema;
        var positions = decoded.Columns.Select(c =>
        {
            int i = all.IndexOf(c.Name);
            if (i < 0) throw new ConnectorOptionException(table.Name, "connector", $"web-traffic has no column '{c.Name}'{SqlErrors.Suggest(c.Name, all.Columns.Select(x => x.Name))}");
            if (!TypeRulesForStrings(c.Type)) throw new ConnectorOptionException(table.Name, "connector", $"web-traffic column '{c.Name}' is a STRING, not {c.Type}");
            return i;
        }).ToArray();
        return new ProjectedSource(new WebTrafficSource(options).AsRows(), positions);
    }

    private static bool TypeRulesForStrings(DataType t) => t.Kind is TypeKind.String or TypeKind.Char;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "web-traffic is a source only");

    /// <summary>Picks columns of each row by position.</summary>
    private sealed class ProjectedSource(Source<Row> inner, int[] positions) : Source<Row>
    {
        public override bool IsBounded => inner.IsBounded;

        public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
            new Eddy.Sql.Plan.Scan.ConvertingSource<Row, Row>(inner, new Eddy.Sql.Codegen.Compiled<Eddy.Sql.Codegen.ConvertBatch<Row, Row>>(Pick)).CreateReader(context);

        private int Pick(Row[] input, long[] inTimestamps, int count, Row[] output, long[] timestamps, int start, long now, int[] selected)
        {
            for (int r = 0; r < count; r++)
            {
                var row = input[r];
                var fields = new object?[positions.Length];
                for (int i = 0; i < positions.Length; i++) fields[i] = row[positions[i]];
                output[start + r] = new Row(row.Kind, fields);
                timestamps[start + r] = inTimestamps[r];
                selected[r] = r;
            }
            return count;
        }
    }
}
