namespace Eddy.Sql.Parsing;

#pragma warning disable CA1707 // Keyword members are spelled exactly as in SQL.

/// <summary>Words the parser recognises. Most may still be used as identifiers; see <see cref="Keywords.IsReserved"/>.</summary>
public enum Keyword
{
    None = 0,
    ALL, AND, ARRAY, AS, ASC, BEGIN, BETWEEN, BIGINT, BINARY, BOOLEAN, BOTH, BY, BYTES,
    CASE, CAST, CATALOG, CATALOGS, CEIL, CEILING, CHAR, CHARACTER, COMMENT, CONSTRAINT, CREATE, CROSS,
    CURRENT, CURRENT_DATE, CURRENT_TIME, CURRENT_TIMESTAMP,
    DATABASE, DATABASES, DATE, DEC, DECIMAL, DESC, DESCRIBE, DESCRIPTOR, DISTINCT, DOUBLE, DROP,
    ELSE, EMPTY, END, ENFORCED, ERROR, ESCAPE, EXCEPT, EXECUTE, EXISTS, EXPLAIN, EXTENDED, EXTRACT,
    FALSE, FETCH, FILTER, FIRST, FLOAT, FLOOR, FOLLOWING, FOR, FROM, FULL, FUNCTION, FUNCTIONS,
    GROUP, GROUPING, HAVING, IF, IN, INNER, INSERT, INT, INTEGER, INTERSECT, INTERVAL, INTO, IS,
    JOIN, JOBS, KEY, LANGUAGE, LAST, LATERAL, LEADING, LEFT, LIKE, LIMIT, LOCAL, LOCALTIME, LOCALTIMESTAMP,
    JSON, JSON_ARRAY, JSON_EXISTS, JSON_OBJECT, JSON_QUERY, JSON_VALUE, MAP, METADATA, MODULES, NATURAL, NEXT, NOT, NULL, NULLS, NUMERIC,
    OF, OFFSET, ON, ONLY, OR, ORDER, ORDINALITY, OUTER, OVER, OVERLAY, OVERWRITE,
    PARTITION, PARTITIONED, PLACING, PLAN, POSITION, PRECEDING, PRECISION, PRIMARY,
    RANGE, REAL, REPLACE, RESET, RETURNING, RIGHT, ROW, ROWS,
    SELECT, SET, SETS, SHOW, SIMILAR, SMALLINT, STATEMENT, STRING, SUBSTRING, SYSTEM, SYSTEM_TIME,
    TABLE, TABLES, TEMPORARY, THEN, TIME, TIMESTAMP, TIMESTAMP_LTZ, TIMESTAMPADD, TIMESTAMPDIFF, TINYINT, TO,
    TRAILING, TRIM, TRUE, TRY_CAST,
    UNBOUNDED, UNION, UNKNOWN, UNNEST, USE, USING, VALUES, VARBINARY, VARCHAR, VARYING, VIEW, VIEWS, VIRTUAL,
    WATERMARK, WHEN, WHERE, WINDOW, WITH, WITHOUT, ZONE,
}

#pragma warning restore CA1707

public static class Keywords
{
    private static readonly Dictionary<string, Keyword> ByName = BuildByName();

    private static readonly Dictionary<string, Keyword>.AlternateLookup<ReadOnlySpan<char>> BySpan =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    private static readonly HashSet<Keyword> Reserved =
    [
        Keyword.ALL, Keyword.AND, Keyword.AS, Keyword.BETWEEN, Keyword.BY, Keyword.CASE, Keyword.CAST, Keyword.CREATE,
        Keyword.CROSS, Keyword.CURRENT_DATE, Keyword.CURRENT_TIME, Keyword.CURRENT_TIMESTAMP, Keyword.DISTINCT,
        Keyword.DROP, Keyword.ELSE, Keyword.END, Keyword.EXCEPT, Keyword.EXISTS, Keyword.FALSE, Keyword.FETCH,
        Keyword.FILTER, Keyword.FOR, Keyword.FROM, Keyword.FULL, Keyword.GROUP, Keyword.HAVING, Keyword.IN,
        Keyword.INNER, Keyword.INSERT, Keyword.INTERSECT, Keyword.INTERVAL, Keyword.INTO, Keyword.IS, Keyword.JOIN,
        Keyword.LATERAL, Keyword.LEFT, Keyword.LIKE, Keyword.LIMIT, Keyword.LOCALTIME, Keyword.LOCALTIMESTAMP,
        Keyword.NATURAL, Keyword.NOT, Keyword.NULL, Keyword.OFFSET, Keyword.ON, Keyword.OR, Keyword.ORDER,
        Keyword.OUTER, Keyword.OVER, Keyword.RIGHT, Keyword.SELECT, Keyword.SIMILAR, Keyword.TABLE, Keyword.THEN, Keyword.TRUE,
        Keyword.TRY_CAST, Keyword.UNION, Keyword.UNNEST, Keyword.USING, Keyword.VALUES, Keyword.WHEN, Keyword.WHERE,
        Keyword.WINDOW, Keyword.WITH,
    ];

    /// <summary>Every keyword spelling, upper case.</summary>
    public static IReadOnlyCollection<string> All => ByName.Keys;

    public static Keyword Lookup(ReadOnlySpan<char> word) =>
        word.Length <= 20 && BySpan.TryGetValue(word, out var kw) ? kw : Keyword.None;

    /// <summary>Reserved keywords cannot be used as unquoted identifiers or aliases.</summary>
    public static bool IsReserved(Keyword keyword) => Reserved.Contains(keyword);

    /// <summary>Whether <paramref name="name"/> must be back-quoted to be read back as the same identifier.</summary>
    public static bool NeedsQuoting(string name)
    {
        if (name.Length == 0) return true;
        char c0 = name[0];
        if (!(char.IsAsciiLetter(c0) || c0 == '_')) return true;
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$')) return true;
        }
        var kw = Lookup(name);
        // ARRAY[...] and MAP[...] are constructors, so a column named array or map is quoted before a subscript.
        return kw != Keyword.None && (IsReserved(kw) || kw is Keyword.ARRAY or Keyword.MAP);
    }

    private static Dictionary<string, Keyword> BuildByName()
    {
        var dict = new Dictionary<string, Keyword>(StringComparer.OrdinalIgnoreCase);
        foreach (var kw in Enum.GetValues<Keyword>())
        {
            if (kw != Keyword.None) dict.Add(kw.ToString(), kw);
        }
        return dict;
    }
}
