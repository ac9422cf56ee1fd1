using System.Globalization;
using Eddy.Functions;

namespace MyCompany.Functions;

/// <summary><c>slugify(title)</c>: a URL slug of a title, through the TextRules library (a dependency beside this one).</summary>
public sealed class Slugify : ScalarFunction
{
    public string? Eval(string? title) => title is null ? null : TextRules.Slug.Make(title);
}

/// <summary>
/// <c>parse_amount('12.50 EUR')</c>: the number before the currency code. Text that is no amount throws, which fails the
/// job with this function's name, where the SQL calls it and the row.
/// </summary>
public sealed class ParseAmount : ScalarFunction
{
    public decimal? Eval(string? text)
    {
        if (text is null) return null;
        string number = text.Split(' ', 2)[0];
        return decimal.Parse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }
}

/// <summary><c>LATERAL TABLE(split_tags('a;b'))</c>: one row per tag (column <c>f0</c>), empty tags left out.</summary>
public sealed class SplitTags : TableFunction<string>
{
    public IEnumerable<string> Eval(string? tags) =>
        tags is null ? [] : tags.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// <c>weighted_avg(value, weight)</c>: Σ value·weight / Σ weight over the rows with both set; NULL for none. The sums
/// are checked: an overflow fails the job (naming this function) instead of giving a wrong average.
/// </summary>
public sealed class WeightedAverage : AggregateFunction<double?, WeightedAverage.Sums>
{
    public sealed class Sums
    {
        public long Weighted;
        public long Weights;
    }

    public override Sums CreateAccumulator() => new();

    public void Accumulate(Sums sums, long? value, long? weight)
    {
        if (value is null || weight is null) return;
        sums.Weighted = checked(sums.Weighted + value.Value * weight.Value);
        sums.Weights = checked(sums.Weights + weight.Value);
    }

    public void Merge(Sums sums, Sums other)
    {
        sums.Weighted = checked(sums.Weighted + other.Weighted);
        sums.Weights = checked(sums.Weights + other.Weights);
    }

    public override double? GetValue(Sums sums) => sums.Weights == 0 ? null : (double)sums.Weighted / sums.Weights;
}
