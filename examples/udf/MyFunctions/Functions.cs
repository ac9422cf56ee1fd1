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

/// <summary>
/// <c>amount_in(amount, 'USD')</c>: an amount such as '12.50 EUR' in another currency, at the rate a rates service
/// answers (<c>GET {rates.url}?from=EUR&amp;to=USD</c> → <c>1.08</c>). An async function: the operator keeps up to
/// <c>table.exec.async-scalar.buffer-capacity</c> requests in flight and emits the rows in their input order. Its
/// lifecycle: Open makes one HttpClient per operator instance from the job parameter <c>rates.url</c>, Close disposes it.
/// </summary>
public sealed class AmountIn : AsyncScalarFunction
{
    private HttpClient? client;
    private string ratesUrl = "";

    public override void Open(FunctionContext context)
    {
        ratesUrl = context.GetJobParameter("rates.url", null)
            ?? throw new InvalidOperationException("SET 'rates.url' to the rates service before using amount_in");
        client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task<decimal?> Eval(string? amount, string? currency, CancellationToken cancellation)
    {
        if (amount is null || currency is null) return null;
        var parts = amount.Split(' ', 2, StringSplitOptions.TrimEntries);
        decimal value = decimal.Parse(parts[0], NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string from = parts.Length > 1 ? parts[1] : "EUR";
        if (from == currency) return value;
        string answer = await client!.GetStringAsync($"{ratesUrl}?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(currency)}", cancellation);
        return value * decimal.Parse(answer.Trim(), CultureInfo.InvariantCulture);
    }

    public override void Close()
    {
        client?.Dispose();
        client = null;
    }
}

/// <summary>
/// <c>masked(text)</c>: the words listed in the job parameter <c>mask.words</c> (comma-separated, any case) replaced by
/// '***'. The lifecycle at work: the list is read once per operator instance in Open, not on every row.
/// </summary>
public sealed class Masked : ScalarFunction
{
    private HashSet<string> words = [];

    public override void Open(FunctionContext context) =>
        words = new HashSet<string>(
            (context.GetJobParameter("mask.words", "") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            StringComparer.OrdinalIgnoreCase);

    public string? Eval(string? text) =>
        text is null ? null : string.Join(' ', text.Split(' ').Select(w => words.Contains(w) ? "***" : w));

    public override void Close() => words = [];
}
