namespace Eddy.Connectors.Formats;

/// <summary>Turns a row into one message's bytes (a sink writer owns one: not thread-safe).</summary>
public abstract class MessageEncoder
{
    /// <exception cref="FormatException">a value the format cannot write (the message names the column).</exception>
    public abstract byte[] Encode(Row row);
}

/// <summary>A value format that can also write (<c>avro</c>, <c>avro-confluent</c>).</summary>
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
}
