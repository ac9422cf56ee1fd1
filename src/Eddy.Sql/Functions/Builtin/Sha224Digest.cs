using System.Buffers.Binary;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// SHA-224 (FIPS 180-4: SHA-256's compression with its own initial values, the digest cut to 28 bytes), which .NET's
/// cryptography does not offer; Flink's SHA224 and SHA2(s, 224) use the JDK's.
/// </summary>
internal static class Sha224Digest
{
    private static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    public static byte[] Hash(byte[] message)
    {
        uint[] h = [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4];
        // Padding: 0x80, zeros, then the bit length as a big-endian 64-bit number, to a multiple of 64 bytes.
        int padded = (message.Length + 9 + 63) / 64 * 64;
        var data = new byte[padded];
        message.CopyTo(data, 0);
        data[message.Length] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(padded - 8), (ulong)message.Length * 8);
        var w = new uint[64];
        for (int block = 0; block < padded; block += 64)
        {
            for (int t = 0; t < 16; t++) w[t] = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(block + 4 * t));
            for (int t = 16; t < 64; t++)
            {
                uint s0 = uint.RotateRight(w[t - 15], 7) ^ uint.RotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3);
                uint s1 = uint.RotateRight(w[t - 2], 17) ^ uint.RotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10);
                w[t] = w[t - 16] + s0 + w[t - 7] + s1;
            }
            uint a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
            for (int t = 0; t < 64; t++)
            {
                uint t1 = hh + (uint.RotateRight(e, 6) ^ uint.RotateRight(e, 11) ^ uint.RotateRight(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
                uint t2 = (uint.RotateRight(a, 2) ^ uint.RotateRight(a, 13) ^ uint.RotateRight(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
            }
            h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
        }
        var digest = new byte[28];
        for (int i = 0; i < 7; i++) BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(4 * i), h[i]);
        return digest;
    }
}
