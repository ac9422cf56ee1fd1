using Eddy.Functions;
using Eddy.Sql;

namespace Eddy.Bench;

/// <summary>
/// The cost of the async path per row (issue 18): the same work — a few integer operations on the payload, answered
/// at once — as a synchronous ScalarFunction compiled into the Calc, and as an AsyncScalarFunction whose task is
/// already complete, run through the async operator (boxing of arguments and result, a task, an in-flight entry and
/// its timeout per row, ordered emission). The difference between the two is the async machinery, not the work.
/// </summary>
public static class UdfWorkloads
{
    public static long SyncScalar(BenchEvent[] events) => Run(events, typeof(MixSync));

    public static long AsyncScalar(BenchEvent[] events) => Run(events, typeof(MixAsync));

    private static long Run(BenchEvent[] events, Type function)
    {
        SqlWorkloads.UseEvents(events);
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute($"""
            SET 'table.exec.async-scalar.buffer-capacity' = '1000';
            CREATE TEMPORARY FUNCTION mix AS '{function.FullName}';
            CREATE TABLE events (ts BIGINT NOT NULL, k INT NOT NULL, payload INT NOT NULL) WITH ('connector' = 'bench-events');
            CREATE TABLE counted (k INT, m BIGINT) WITH ('connector' = 'bench-count');
            INSERT INTO counted SELECT k, mix(CAST(payload AS BIGINT)) FROM events;
            """);
        return SqlWorkloads.ExecuteCounted(jobs[0]);
    }

    private static long Mix(long x) => unchecked(x * -7046029254386353131L) ^ (x >> 7);

    public sealed class MixSync : ScalarFunction
    {
        public long? Eval(long? x) => x is null ? null : Mix(x.Value);
    }

    public sealed class MixAsync : AsyncScalarFunction
    {
        public Task<long?> Eval(long? x) => Task.FromResult(x is null ? null : (long?)Mix(x.Value));
    }
}
