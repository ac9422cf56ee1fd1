namespace Eddy.Connectors.Formats;

/// <summary>Turns a row into one message's bytes (a sink writer owns one: not thread-safe).</summary>
public abstract class MessageEncoder
{
    /// <exception cref="FormatException">a value the format cannot write (the message names the column).</exception>
    public abstract byte[] Encode(Row row);

    /// <summary>
    /// The message of a row of any kind. A format that writes a changelog (<see cref="IWritableValueFormat.WritesChangelog"/>)
    /// overrides it; the others write inserts only (the planner keeps updates away from them).
    /// </summary>
    public virtual byte[] Encode(Row row, RowKind kind) => kind == RowKind.Insert
        ? Encode(row)
        : throw new InvalidOperationException($"{GetType().Name} writes inserts only; got a {kind.ShortString()} row");
}

/// <summary>A value format that can also write (<c>avro</c>, <c>avro-confluent</c>, the changelog JSON formats, <c>protobuf</c>).</summary>
public interface IWritableValueFormat : IValueFormat
{
    /// <summary>
    /// An encoder of <paramref name="context"/>'s physical columns, which sit at <paramref name="positions"/> of the
    /// rows it is given. Created per sink writer; it may reach external services (a schema registry) on first use only.
    /// </summary>
    /// <exception cref="FormatOptionException">a bad option, or a column the format cannot write.</exception>
    MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions);

    /// <summary>Checks the options and columns for writing without creating anything (planning).</summary>
    void ValidateForWriting(FormatContext context);

    /// <summary>
    /// Whether the format writes every row kind (+I, -U, +U, -D), as Flink's debezium-json, canal-json and
    /// maxwell-json: a <c>kafka</c> table in it takes an updating query.
    /// </summary>
    bool WritesChangelog => false;
}
