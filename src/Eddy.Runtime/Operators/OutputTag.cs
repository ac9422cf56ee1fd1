namespace Eddy;

/// <summary>Names a side output of an operator: a second stream of another type, such as late data.</summary>
public sealed class OutputTag<T>(string id)
{
    public string Id { get; } = string.IsNullOrWhiteSpace(id)
        ? throw new ArgumentException("an output tag needs a name", nameof(id))
        : id;

    public override string ToString() => $"OutputTag<{typeof(T).Name}>({Id})";
}
