using Eddy.Sql.Connectors;

namespace Eddy.Connectors;

/// <summary>This project's table factories, for a composition root's <see cref="ConnectorRegistry"/>.</summary>
public static class FileConnectors
{
    /// <summary>The filesystem connector with its built-in formats (json, csv, parquet).</summary>
    public static IReadOnlyList<ITableConnector> All => [new FilesystemTableConnector()];

    /// <summary>The filesystem connector that also reads and writes <paramref name="formats"/> (Eddy.Connectors.Formats' <c>FileFormats.All</c>).</summary>
    public static IReadOnlyList<ITableConnector> With(IReadOnlyList<IFileFormat> formats) => [new FilesystemTableConnector(formats)];
}
