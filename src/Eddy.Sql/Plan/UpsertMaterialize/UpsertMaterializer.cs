using Eddy.Sql.Catalog;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>Flink's <c>table.exec.sink.upsert-materialize</c>.</summary>
public enum UpsertMaterializeMode
{
    /// <summary>Materialize when the updating input has no upsert key that the sink's primary key contains (the default).</summary>
    Auto,
    /// <summary>Never materialize.</summary>
    None,
    /// <summary>Materialize every updating input of a sink with a primary key.</summary>
    Force,
}

/// <summary>
/// A SinkUpsertMaterializer before a sink (<see cref="SinkUpsertMaterializer{TRow, TKey}"/>): keyed by
/// <see cref="Key"/>, the sink's primary key columns; rows compared by <see cref="InputUpsertKey"/>, the input's
/// smallest upsert key, or whole when it has none; <see cref="StateTtlMs"/>, Flink's <c>table.exec.state.ttl</c>.
/// </summary>
public sealed record UpsertMaterializer(IReadOnlyList<int> Key, IReadOnlyList<int>? InputUpsertKey, long StateTtlMs)
{
    public const string Option = "table.exec.sink.upsert-materialize";

    public static UpsertMaterializeMode ParseMode(string value) => value.Trim().ToUpperInvariant() switch
    {
        "AUTO" => UpsertMaterializeMode.Auto,
        "NONE" => UpsertMaterializeMode.None,
        "FORCE" => UpsertMaterializeMode.Force,
        _ => throw new FormatException($"'{Option}' is NONE, AUTO or FORCE, got '{value}'"),
    };

    /// <summary>
    /// Flink's decision (FlinkChangelogModeInferenceProgram.analyzeUpsertMaterializeStrategy, and CommonExecSink's
    /// "only if the input has changes"): a materializer for an updating input into a table with a primary key, under
    /// FORCE always, under AUTO when no upsert key of the input is contained in the primary key. Null: no materializer.
    /// Throws <see cref="InvalidOperationException"/> with the reason when Eddy cannot tell what Flink would decide
    /// (the caller locates it).
    /// </summary>
    internal static UpsertMaterializer? Decide(TableDef table, LogicalPlan input, UpsertMaterializeMode mode, long stateTtlMs)
    {
        if (!input.IsUpdating || table.PrimaryKey.Count == 0 || mode == UpsertMaterializeMode.None) return null;
        var primaryKey = table.PrimaryKey.Select(n => table.SinkSchema.RequireIndex(n)).ToList();
        var keys = UpsertKeys.Of(input);
        if (mode == UpsertMaterializeMode.Auto)
        {
            if (keys.Known.Any(k => k.All(primaryKey.Contains))) return null;
            if (!keys.Complete)
            {
                throw new InvalidOperationException($"Eddy cannot tell whether Flink would put a SinkUpsertMaterializer before '{table.Name}': "
                    + $"it does not follow {keys.Why} (Flink materializes when no upsert key of the input lies within the primary key "
                    + $"({string.Join(", ", table.PrimaryKey)})); SET '{Option}' = 'FORCE' (materialize) or 'NONE' (write the changes as they are)");
            }
        }
        // The materializer compares rows by the input's smallest upsert key (Flink's UpsertKeyUtil.getSmallestKey), or whole.
        if (!keys.Complete)
        {
            throw new InvalidOperationException($"Eddy cannot tell which upsert key Flink's SinkUpsertMaterializer before '{table.Name}' "
                + $"would compare rows by: it does not follow {keys.Why}; SET '{Option}' = 'NONE' to write the changes as they are");
        }
        var distinct = keys.Known.DistinctBy(k => string.Join(",", k)).ToList();
        IReadOnlyList<int>? smallest = null;
        if (distinct.Count > 0)
        {
            int size = distinct.Min(k => k.Count);
            var candidates = distinct.Where(k => k.Count == size).ToList();
            if (candidates.Count > 1)
            {
                throw new InvalidOperationException($"the input of '{table.Name}' has several smallest upsert keys, and which one Flink's "
                    + $"SinkUpsertMaterializer compares rows by is not followed by Eddy; SET '{Option}' = 'NONE' to write the changes as they are");
            }
            smallest = candidates[0];
        }
        return new UpsertMaterializer(primaryKey, smallest, stateTtlMs);
    }

    public string Describe(Schema schema) =>
        $"upsertMaterialize=[true], upsertMaterializeKey=[{string.Join(", ", Key.Select(i => schema[i].Name))}]"
        + (InputUpsertKey is { } k ? $", inputUpsertKey=[{string.Join(", ", k.Select(i => schema[i].Name))}]" : "");
}
