using Eddy.Sql.Codegen;
using Eddy.Sql.Connectors;
using Eddy.Sql.Functions;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// Projection pushdown with nested fields into a fused scan whose connector supports it
/// (<see cref="INestedProjectionConnector"/>; Flink's <c>SupportsProjectionPushDown</c> with nested projection): the
/// connector decodes only the columns and ROW fields that the scan's only reader (its fused Calc, or the readers of
/// an aggregation) and its computed columns read. A ROW column read only as <c>row.field</c> is not decoded as a ROW
/// value at all: each field read becomes a column of its own (NULL where the ROW is NULL, as <c>row.field</c> of a
/// NULL row is), appended to the scan's schema, and the reader's <c>row.field</c> reads that column.
/// Anything this rule does not know (an expression kind, a ROW column read whole) keeps the column whole.
/// </summary>
public static class NestedFieldPushdown
{
    public static FusedScanPlan? TryPush(FusedScanPlan fused, ConnectorRegistry connectors)
    {
        var scan = fused.Scan;
        // The expressions over the scan's columns: the fused Calc's, else the aggregation's readers.
        var consumers = new List<BoundExpr>();
        if (fused.Calc is { } calc)
        {
            // With readers above, the Calc computes only the columns they read (as the scan's loop does).
            var read = fused.Readers is { } above ? ExpressionCompiler.ReferencedColumns(calc.Projections.Count, above, null) : null;
            consumers.AddRange(calc.Projections.Where((_, c) => read?[c] ?? true));
            if (calc.Filter is not null) consumers.Add(calc.Filter);
        }
        else if (fused.Readers is { } readers) consumers.AddRange(readers);
        else return null;
        if (Push(scan, consumers, connectors) is not (ScanPlan pushed, Func<BoundExpr, BoundExpr> reads)) return null;
        if (fused.Calc is { } fusedCalc)
        {
            var narrowed = fusedCalc with
            {
                Input = pushed,
                Projections = fusedCalc.Projections.Select(reads).ToList(),
                Filter = fusedCalc.Filter is null ? null : reads(fusedCalc.Filter),
            };
            return new FusedScanPlan(pushed, narrowed, fused.Readers, false);
        }
        return new FusedScanPlan(pushed, null, fused.Readers!.Select(reads).ToList(), false);
    }

    /// <summary>
    /// <paramref name="scan"/> decoding only what <paramref name="consumers"/> (every expression evaluated over its
    /// columns, by any of its readers) read, and how to rewrite those expressions to read its new columns; null when
    /// its connector cannot project, an expression is of a kind this rule does not know, or nothing can be left out.
    /// </summary>
    public static (ScanPlan Pushed, Func<BoundExpr, BoundExpr> Read)? Push(ScanPlan scan, IReadOnlyList<BoundExpr> consumers, ConnectorRegistry connectors)
    {
        if (scan.Nested is not null || connectors.TryFind(scan.Table) is not INestedProjectionConnector) return null;
        int columns = scan.Schema.Count;
        // Table columns that pass a decoded ROW column through, and the fields read of each.
        var passedRow = new int?[columns];
        for (int c = 0; c < columns; c++)
            if (scan.Projections[c] is InputRef r && scan.Decoded[r.Index].Type.Kind == TypeKind.Row && c != scan.RowtimeIndex) passedRow[c] = r.Index;
        var whole = new bool[columns];
        var fieldsRead = new SortedSet<int>?[columns];
        if (!consumers.All(e => Visit(e, passedRow, whole, fieldsRead))) return null;
        if (scan.RowtimeIndex is { } rt) whole[rt] = true;
        var flattened = Enumerable.Range(0, columns).Where(c => passedRow[c] is not null && !whole[c] && fieldsRead[c] is not null).ToList();

        // What the decoded columns must give: wholes for the table columns read whole, fields for the flattened ones.
        int physical = scan.Decoded.Count;
        var decodedWhole = new bool[physical];
        var decodedFields = new SortedSet<int>?[physical];
        var decodedRows = Enumerable.Range(0, physical).Select(d => (int?)(scan.Decoded[d].Type.Kind == TypeKind.Row ? d : null)).ToArray();
        for (int c = 0; c < columns; c++)
            if (whole[c] && !Visit(scan.Projections[c], decodedRows, decodedWhole, decodedFields)) return null;
        // A ROW column also read whole elsewhere is decoded whole: its fields are read from the ROW value then.
        foreach (var c in flattened.Where(c => decodedWhole[passedRow[c]!.Value])) whole[c] = true;
        flattened.RemoveAll(c => whole[c]);
        foreach (var c in flattened) (decodedFields[passedRow[c]!.Value] ??= []).UnionWith(fieldsRead[c]!);
        for (int d = 0; d < physical; d++) if (decodedWhole[d]) decodedFields[d] = null;
        if (flattened.Count == 0 && decodedWhole.All(w => w)) return null;

        var paths = new List<ColumnPath>();
        var decoded = new List<Column>();
        var wholeAt = new int[physical];
        var fieldAt = new Dictionary<(int, int), int>();
        for (int d = 0; d < physical; d++)
        {
            var column = scan.Decoded[d];
            if (decodedWhole[d])
            {
                wholeAt[d] = paths.Count;
                paths.Add(new ColumnPath(d, null));
                decoded.Add(column);
            }
            foreach (var f in decodedFields[d] ?? [])
            {
                var field = column.Type.Fields![f];
                fieldAt[(d, f)] = paths.Count;
                paths.Add(new ColumnPath(d, f));
                decoded.Add(new Column($"{column.Name}.{field.Name}", field.Type with { Nullable = true }));
            }
        }

        // The scan's columns over the projected decoded ones; unread ones (never computed) become NULL.
        var projections = new List<BoundExpr>(columns);
        for (int c = 0; c < columns; c++)
        {
            projections.Add(whole[c]
                ? Remap(scan.Projections[c], r => new InputRef(wholeAt[r.Index], r.Name, r.Type),
                    (r, f, type) => decodedWhole[r.Index] ? null : new InputRef(fieldAt[(r.Index, f)], decoded[fieldAt[(r.Index, f)]].Name, type))
                : new Literal(null, scan.Schema[c].Type with { Nullable = true }));
        }
        var schemaColumns = scan.Schema.Columns.ToList();
        var appendedAt = new Dictionary<(int, int), int>();
        foreach (var c in flattened)
        {
            int d = passedRow[c]!.Value;
            foreach (var f in fieldsRead[c]!)
            {
                var field = scan.Decoded[d].Type.Fields![f];
                appendedAt[(c, f)] = schemaColumns.Count;
                schemaColumns.Add(new Column($"{scan.Schema[c].Name}.{field.Name}", field.Type with { Nullable = true }));
                projections.Add(new InputRef(fieldAt[(d, f)], $"{scan.Decoded[d].Name}.{field.Name}", field.Type with { Nullable = true }));
            }
        }
        var pushed = scan with
        {
            Schema = new Schema(schemaColumns),
            Decoded = new Schema(decoded),
            Projections = projections,
            Nested = new NestedProjection(scan.Decoded, paths),
        };
        // (A Calc column its readers do not read is never computed: its fields may have no column.)
        BoundExpr Read(BoundExpr e) => Remap(e, r => r, (r, f, type) => appendedAt.TryGetValue((r.Index, f), out int at)
            ? new InputRef(at, schemaColumns[at].Name, type)
            : null);
        return (pushed, Read);
    }

    /// <summary>
    /// Records how <paramref name="e"/> reads its input: <c>row.field</c> (a literal field) of a column in
    /// <paramref name="rowColumns"/> into <paramref name="fields"/>, any other column read into
    /// <paramref name="whole"/>. False on an expression kind this rule does not know.
    /// </summary>
    private static bool Visit(BoundExpr e, int?[] rowColumns, bool[] whole, SortedSet<int>?[] fields)
    {
        DeepStack.Ensure();
        switch (e)
        {
            case Call { Method.Name: nameof(SqlFunctions.RowField), Args: [InputRef r, Literal { Value: int f }] } when rowColumns[r.Index] is not null:
                (fields[r.Index] ??= []).Add(f);
                return true;
            case InputRef r:
                whole[r.Index] = true;
                return true;
            case Literal or CurrentTime or IntervalExpr:
                return true;
            case Binary b:
                return Visit(b.Left, rowColumns, whole, fields) && Visit(b.Right, rowColumns, whole, fields);
            case Unary u:
                return Visit(u.Operand, rowColumns, whole, fields);
            case Cast c:
                return Visit(c.Operand, rowColumns, whole, fields);
            case CaseWhen cw:
                return cw.Branches.All(b => Visit(b.When, rowColumns, whole, fields) && Visit(b.Then, rowColumns, whole, fields))
                    && (cw.Else is null || Visit(cw.Else, rowColumns, whole, fields));
            case Call c:
                return c.Args.All(a => Visit(a, rowColumns, whole, fields));
            case InList i:
                return Visit(i.Value, rowColumns, whole, fields) && i.Items.All(a => Visit(a, rowColumns, whole, fields));
            case Coalesce co:
                return co.Args.All(a => Visit(a, rowColumns, whole, fields));
            default:
                return false;
        }
    }

    /// <summary>
    /// <paramref name="e"/> with <c>row.field</c> reads replaced by <paramref name="field"/> (when it gives one) and other
    /// column reads by <paramref name="column"/>; only the kinds <see cref="Visit"/> accepts occur.
    /// </summary>
    private static BoundExpr Remap(BoundExpr e, Func<InputRef, BoundExpr> column, Func<InputRef, int, DataType, BoundExpr?> field) => DeepStack.Ensure(e) switch
    {
        Call { Method.Name: nameof(SqlFunctions.RowField), Args: [InputRef r, Literal { Value: int f }] } c when field(r, f, c.Type) is { } read => read,
        InputRef r => column(r),
        Binary b => b with { Left = Remap(b.Left, column, field), Right = Remap(b.Right, column, field) },
        Unary u => u with { Operand = Remap(u.Operand, column, field) },
        Cast c => c with { Operand = Remap(c.Operand, column, field) },
        CaseWhen cw => cw with
        {
            Branches = cw.Branches.Select(b => (Remap(b.When, column, field), Remap(b.Then, column, field))).ToList(),
            Else = cw.Else is null ? null : Remap(cw.Else, column, field),
        },
        Call c => c with { Args = c.Args.Select(a => Remap(a, column, field)).ToList() },
        InList i => i with { Value = Remap(i.Value, column, field), Items = i.Items.Select(a => Remap(a, column, field)).ToList() },
        Coalesce co => co with { Args = co.Args.Select(a => Remap(a, column, field)).ToList() },
        _ => e,
    };
}
