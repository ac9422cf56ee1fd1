namespace Eddy.Sql.Tests.Parsing;

/// <summary>The test methods whose [InlineData] rows are SQL texts that must round-trip.</summary>
internal static class RoundTripCorpus
{
    public static IEnumerable<System.Reflection.MethodInfo> Methods() =>
        typeof(RoundTripCorpus).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.DeclaringType == typeof(RoundTripTests) || m.Name == "Round_trip");
}
