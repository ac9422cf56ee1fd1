namespace Eddy.Connectors;

/// <summary>
/// A binary file format of the filesystem connector that lives outside this project (<c>avro</c>, in
/// Eddy.Connectors.Formats, which references this project and not the other way round): the composition root hands
/// the connector its formats (<see cref="FileConnectors.With"/>). json, csv and parquet are built in.
/// </summary>
public interface IFileFormat
{
    /// <summary>The value of <c>'format'</c>.</summary>
    string Name { get; }

    /// <summary>The part files' extension, without the dot.</summary>
    string Extension { get; }

    /// <summary>The format's own options (<c>avro.codec</c>); the connector hands them over in <see cref="FileConnectorOptions.FormatOptions"/>.</summary>
    IReadOnlyCollection<string> Options { get; }

    /// <summary>Checks the format's options and the columns it is to hold, at planning.</summary>
    /// <exception cref="ArgumentException">a bad option or a column the format cannot hold, named as <c>filesystem option '…': …</c>.</exception>
    void Check(FileConnectorOptions options, IReadOnlyList<Column> columns);

    /// <summary>A writer of one part file: the columns at <paramref name="fields"/> of each row.</summary>
    IFilePartWriter CreateWriter(FileConnectorOptions options, IReadOnlyList<Column> columns, int[] fields, Stream file);

    /// <summary>A reader of one file into rows of <paramref name="columns"/>.</summary>
    /// <exception cref="FileParseException">the file is not in the format, or cannot be read as the columns.</exception>
    IFileRowReader OpenReader(FileConnectorOptions options, string path, IReadOnlyList<Column> columns);
}

/// <summary>Writes one part file of a binary format (Parquet, Avro) that frames its own content.</summary>
public interface IFilePartWriter
{
    /// <summary>Bytes held for the file that have not reached it yet (a row group, a block): counted for rolling by size.</summary>
    long Buffered { get; }

    void Write(Row row);

    /// <summary>Writes what is held and the format's end; the caller flushes and closes the file.</summary>
    void Complete();
}

/// <summary>Reads one file of a binary format row by row; its position (rows read) is the checkpoint position within the file.</summary>
public interface IFileRowReader : IDisposable
{
    /// <summary>The next row's values, or false at the end of the file.</summary>
    /// <exception cref="FileParseException">the file is damaged (it names the file).</exception>
    bool TryRead(out object?[] values);

    /// <summary>Passes over one row without keeping it (a restore resuming inside the file); false at the end.</summary>
    bool Skip();
}
