using System.Text;
using Eddy.Functions;

// The namespace and class name of Nexmark's Java UDF, so that q14.sql's CREATE FUNCTION runs unchanged.
#pragma warning disable IDE1006
namespace com.github.nexmark.flink.udf;
#pragma warning restore IDE1006

/// <summary>
/// Nexmark's <c>CountChar</c>: how many bytes of <c>s</c>'s UTF-8 encoding equal the first byte of
/// <c>character</c>'s (0 for a NULL <c>s</c>), as the Java function compares the bytes of Flink's StringData.
/// </summary>
public sealed class CountChar : ScalarFunction
{
    public long Eval(string? s, string character)
    {
        if (s is null) return 0;
        byte wanted = Encoding.UTF8.GetBytes(character)[0];
        int length = Encoding.UTF8.GetByteCount(s);
        Span<byte> bytes = length <= 1024 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes.Count(wanted);
    }
}
