using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Flink's hash functions: the digest of the string's UTF-8 bytes as lower-case hexadecimal.</summary>
public static class HashFunctions
{
    private static BuiltinFunction Hash(string name, Func<string?, string?> f) => new(name, FunctionGroup.Hash, c =>
    {
        c.Arity(1, 1);
        return c.Call(f.Method, DataType.String, c.String(0));
    });

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        Hash("MD5", Md5), Hash("SHA1", Sha1), Hash("SHA224", Sha224), Hash("SHA256", Sha256), Hash("SHA384", Sha384), Hash("SHA512", Sha512),
        new("SHA2", FunctionGroup.Hash, c =>
        {
            c.Arity(2, 2);
            // The bit length decides the algorithm at planning.
            Func<string?, string?> f = c.LiteralValue(1) switch
            {
                224 => Sha224,
                256 => Sha256,
                384 => Sha384,
                512 => Sha512,
                null => NullHash,
                _ => throw c.FailAt(1, "SHA2 takes a hash length of 224, 256, 384 or 512"),
            };
            return c.Call(f.Method, DataType.String, c.String(0));
        }),
    ];

    private static string? Hex(string? s, Func<byte[], byte[]> digest) =>
        s is null ? null : Convert.ToHexStringLower(digest(Encoding.UTF8.GetBytes(s)));

    /// <summary>SHA2 with a NULL length.</summary>
    public static string? NullHash(string? s) => null;

    public static string? Md5(string? s) => Hex(s, MD5.HashData);
    public static string? Sha1(string? s) => Hex(s, SHA1.HashData);
    public static string? Sha224(string? s) => Hex(s, Sha224Digest.Hash);
    public static string? Sha256(string? s) => Hex(s, SHA256.HashData);
    public static string? Sha384(string? s) => Hex(s, SHA384.HashData);
    public static string? Sha512(string? s) => Hex(s, SHA512.HashData);
}
