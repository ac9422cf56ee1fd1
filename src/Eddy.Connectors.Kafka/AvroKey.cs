using Eddy.Connectors.Formats;
using Eddy.Connectors.Formats.Avro;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>'key.format' = 'avro'</c>, as Flink: the key is an Avro record of the <c>key.fields</c> columns, with the schema
/// Flink derives from them (<see cref="AvroFormat"/>), options under <c>key.avro.*</c>.
/// </summary>
internal static class AvroKey
{
    public static FormatContext Context(TableDef table, Schema keyColumns) =>
        new(table.Name, keyColumns, [], name => table.Options.GetValueOrDefault("key." + name), _ => null) { OptionKey = name => "key." + name };

    public static MessageDecoder Decoder(TableDef table, Schema keyColumns)
    {
        try
        {
            return new AvroFormat().CreateDecoder(Context(table, keyColumns));
        }
        catch (FormatOptionException e)
        {
            throw new ConnectorOptionException(table.Name, e.Option, e.Message);
        }
    }
}
