namespace Eddy.Sql.Parsing;

/// <summary>
/// A region of the SQL text: <see cref="Offset"/> and <see cref="Length"/> count UTF-16 chars from the start of the
/// script; <see cref="Line"/> and <see cref="Column"/> are 1-based and describe where the region starts.
/// </summary>
public readonly record struct SourceSpan(int Offset, int Length, int Line, int Column)
{
    public static readonly SourceSpan None = default;

    public int End => Offset + Length;

    /// <summary>The smallest span covering this span and <paramref name="other"/> (line and column of the earlier one).</summary>
    public SourceSpan Union(SourceSpan other)
    {
        var first = other.Offset < Offset ? other : this;
        int end = Math.Max(End, other.End);
        return first with { Length = end - first.Offset };
    }

    public override string ToString() => $"{Line}:{Column} (offset {Offset}, length {Length})";
}
