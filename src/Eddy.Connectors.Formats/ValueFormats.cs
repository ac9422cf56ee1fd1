namespace Eddy.Connectors.Formats;

/// <summary>
/// What a format gets to make a decoder: the table (for messages), the columns it decodes, the metadata keys asked
/// for (without the connector's <c>value.</c> prefix, in column order), the format's options by their unprefixed
/// names, and where to find a user's class by name (the session's <c>ADD JAR</c> assemblies, then Eddy's own).
/// </summary>
public sealed record FormatContext(
    string Table,
    Schema Physical,
    IReadOnlyList<string> Metadata,
    Func<string, string?> Option,
    Func<string, Type?> FindType)
{
    /// <summary>How the table spells an option (<c>value.</c> prefix or not), for error messages.</summary>
    public Func<string, string> OptionKey { get; init; } = name => name;

    /// <summary>A boolean option, false when absent.</summary>
    public bool Flag(string name)
    {
        string? text = Option(name);
        if (text is null) return false;
        return bool.TryParse(text, out bool b) ? b : throw new FormatOptionException(OptionKey(name), $"expected true or false, got '{text}'");
    }
}

/// <summary>A bad format option or a table the format cannot read; the connector adds the table's name.</summary>
public sealed class FormatOptionException(string option, string problem) : Exception(problem)
{
    public string Option { get; } = option;
}

/// <summary>
/// Turns one message's bytes into rows of the physical columns followed by the asked metadata columns. A changelog
/// format gives each row its kind (+I, -U, +U, -D) and may give several rows (or none) per message; a message that
/// cannot be decoded throws a <see cref="FormatException"/> (the source applies its bad-record mode).
/// </summary>
public abstract class MessageDecoder
{
    /// <summary>Whether the table asks to skip messages that cannot be decoded (<c>&lt;format&gt;.ignore-parse-errors</c>).</summary>
    public bool IgnoreParseErrors { get; init; }

    /// <summary>Adds the message's rows to <paramref name="rows"/>.</summary>
    public abstract void Decode(byte[] message, List<Row> rows);

    /// <summary>The one row of a message of a format that is not a changelog.</summary>
    public virtual Row DecodeRow(byte[] message)
    {
        var rows = new List<Row>(1);
        Decode(message, rows);
        return rows.Count == 1 ? rows[0] : throw new InvalidOperationException($"{GetType().Name} gave {rows.Count} rows for one message");
    }
}

/// <summary>A value format known by name (<c>'format' = 'debezium-json'</c>).</summary>
public interface IValueFormat
{
    string Name { get; }

    /// <summary>The format's options, unprefixed (<c>debezium-json.schema-include</c>).</summary>
    IReadOnlyCollection<string> Options { get; }

    /// <summary>Whether reading gives a changelog (+I, -U/+U, -D), not only inserts.</summary>
    bool IsChangelog { get; }

    /// <summary>The format's metadata: key (unprefixed) and the type Flink gives it.</summary>
    IReadOnlyDictionary<string, DataType> Metadata { get; }

    /// <exception cref="FormatOptionException">a bad option, or a column the format cannot read.</exception>
    MessageDecoder CreateDecoder(FormatContext context);
}

/// <summary>Decodes one message into the planner's row struct <typeparamref name="T"/> (a field per column), without a <see cref="Row"/>.</summary>
public abstract class StructDecoder<T> where T : struct
{
    /// <exception cref="FormatException">the message cannot be decoded.</exception>
    public abstract void Decode(byte[] message, out T row);
}

/// <summary>A format that can decode straight into row structs when the message holds every column of the table.</summary>
public interface IStructFormat : IValueFormat
{
    /// <summary>A decoder into <typeparamref name="T"/>, or null when this table is read as rows.</summary>
    StructDecoder<T>? CreateStructDecoder<T>(FormatContext context) where T : struct;
}

/// <summary>
/// The formats of this project, found by name: one explicit list, read by the connectors (Kafka) for every format
/// they do not decode themselves (json, csv, raw live with the files connector).
/// </summary>
public static class ValueFormats
{
    private static readonly IValueFormat[] Known =
    [
        new Debezium.DebeziumJsonFormat(),
        new Debezium.CanalJsonFormat(),
        new Debezium.MaxwellJsonFormat(),
        new Protobuf.ProtobufFormat(),
        new Avro.AvroFormat(),
        new Avro.AvroConfluentFormat(),
        new Avro.DebeziumAvroConfluentFormat(),
    ];

    public static IEnumerable<string> Names => Known.Select(f => f.Name);

    public static IValueFormat? Find(string name) => Known.FirstOrDefault(f => f.Name == name);

    /// <summary>Every option of every format here, unprefixed (a connector accepts them with or without <c>value.</c>).</summary>
    public static IEnumerable<string> AllOptions => Known.SelectMany(f => f.Options);

    /// <summary>Every metadata key of every format here, unprefixed.</summary>
    public static IEnumerable<string> AllMetadata => Known.SelectMany(f => f.Metadata.Keys).Distinct();
}

/// <summary>
/// The filesystem connector's formats of this project, for a composition root:
/// <c>FileConnectors.With(FileFormats.All)</c> (the files project cannot reference this one).
/// </summary>
public static class FileFormats
{
    public static IReadOnlyList<IFileFormat> All { get; } = [new Avro.AvroFileFormat()];
}
