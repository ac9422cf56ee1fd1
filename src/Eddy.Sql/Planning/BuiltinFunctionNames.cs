namespace Eddy.Sql.Planning;

public sealed partial class Binder
{
    /// <summary>
    /// The built-in functions the binder knows (scalar, special syntax and aggregates), for SHOW FUNCTIONS. Keep in
    /// step with the cases of the binder's function switch.
    /// </summary>
    public static readonly IReadOnlyList<string> BuiltinFunctionNames =
    [
        "ABS", "AVG", "CARDINALITY", "CAST", "CEIL", "CHARACTER_LENGTH", "CHAR_LENGTH", "COALESCE", "CONCAT", "CONCAT_WS",
        "COUNT", "CUMULATE", "CURRENT_ROW_TIMESTAMP", "CURRENT_TIMESTAMP", "DATE_FORMAT", "EXTRACT", "FIRST_VALUE", "FLOOR",
        "HOP", "HOP_END", "HOP_ROWTIME", "HOP_START", "IF", "IFNULL", "IS_JSON", "JSON_ARRAY", "JSON_EXISTS", "JSON_OBJECT",
        "JSON_QUERY", "JSON_VALUE", "LAST_VALUE", "LISTAGG", "LOCALTIMESTAMP", "LOWER", "MAX", "MIN", "MOD", "NOW", "NULLIF",
        "POSITION", "PROCTIME", "REGEXP", "REGEXP_EXTRACT", "REPLACE", "ROUND", "ROW_NUMBER", "SESSION", "SESSION_END",
        "SESSION_ROWTIME", "SESSION_START", "SPLIT_INDEX", "SUBSTR", "SUBSTRING", "SUM", "TIMESTAMPADD", "TIMESTAMPDIFF",
        "TO_TIMESTAMP", "TO_TIMESTAMP_LTZ", "TRIM", "TRY_CAST", "TUMBLE", "TUMBLE_END", "TUMBLE_ROWTIME", "TUMBLE_START", "UPPER",
        .. Eddy.Functions.Geo.GeoFunctions.SqlNames,
    ];
}
