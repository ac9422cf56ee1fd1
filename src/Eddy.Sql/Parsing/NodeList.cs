using System.Collections;

namespace Eddy.Sql.Parsing;

/// <summary>
/// An immutable list of AST children with structural equality, so that records holding lists compare by content.
/// </summary>
public sealed class NodeList<T> : IReadOnlyList<T>, IEquatable<NodeList<T>>
{
    public static readonly NodeList<T> Empty = new([]);

    private readonly T[] items;

    public NodeList(T[] items) => this.items = items;

    public NodeList(IEnumerable<T> items) => this.items = items.ToArray();

    public int Count => items.Length;

    public bool IsEmpty => items.Length == 0;

    public T this[int index] => items[index];

    public static implicit operator NodeList<T>(T[] items) => items.Length == 0 ? Empty : new NodeList<T>(items);

    public static implicit operator NodeList<T>(List<T> items) => items.Count == 0 ? Empty : new NodeList<T>(items.ToArray());

    public bool Equals(NodeList<T>? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (items.Length != other.items.Length) return false;
        var cmp = EqualityComparer<T>.Default;
        for (int i = 0; i < items.Length; i++)
        {
            if (!cmp.Equals(items[i], other.items[i])) return false;
        }
        return true;
    }

    public override bool Equals(object? obj) => obj is NodeList<T> other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in items) hash.Add(item);
        return hash.ToHashCode();
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => items.GetEnumerator();

    public override string ToString() => "[" + string.Join(", ", items) + "]";
}
