using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using LinqExpr = System.Linq.Expressions.Expression;
using System.Linq.Expressions;

namespace Eddy.Runtime;

/// <summary>A type that cannot go into a checkpoint, found when the serializer is built (at job start).</summary>
public sealed class StateSerializationException(string message) : Exception(message);

/// <summary>
/// Writes and reads one type of state value (key, value, accumulator, record) in the checkpoint format. Made once
/// per type by <see cref="StateSerializers.For{T}"/> from compiled expression trees: no reflection per value.
/// </summary>
public sealed class StateSerializer<T>
{
    internal Action<BinaryWriter, T> WriteValue = null!;
    internal Func<BinaryReader, T> ReadValue = null!;

    /// <summary>
    /// For primitives whose encoding is their little-endian memory image (integers, floating point, bool, char,
    /// enums of those): the size in bytes, so that operators can copy runs of them through a buffer, with no call per
    /// value; 0 for every other type.
    /// </summary>
    public int FixedSize { get; } = FixedSizeOf(typeof(T));

    private static int FixedSizeOf(Type t)
    {
        if (!BitConverter.IsLittleEndian) return 0;
        if (t.IsEnum) t = Enum.GetUnderlyingType(t);
        return t == typeof(bool) || t == typeof(byte) || t == typeof(sbyte) ? 1
            : t == typeof(short) || t == typeof(ushort) || t == typeof(char) ? 2
            : t == typeof(int) || t == typeof(uint) || t == typeof(float) ? 4
            : t == typeof(long) || t == typeof(ulong) || t == typeof(double) ? 8
            : 0;
    }

    public void Write(BinaryWriter writer, T value) => WriteValue(writer, value);

    public T Read(BinaryReader reader) => ReadValue(reader);
}

/// <summary>
/// The serializers of state values. Supported: primitives, <see cref="string"/> and <c>byte[]</c> (null-safe),
/// <see cref="Nullable{T}"/>, enums, <see cref="decimal"/>, <see cref="DateTime"/>, <see cref="DateTimeOffset"/>,
/// <see cref="TimeSpan"/>, <see cref="DateOnly"/>, <see cref="TimeOnly"/>, <see cref="Guid"/>, arrays,
/// <see cref="List{T}"/>, <see cref="HashSet{T}"/>, <see cref="Dictionary{TKey,TValue}"/>, <see cref="Row"/>,
/// <see cref="object"/> (tagged with its runtime type), and structs, classes, records and tuples made of those
/// through public fields, settable or init properties, or a public constructor whose parameters name readable
/// members. A type with state it cannot reach (private fields not behind a serialized property), an interface, an
/// abstract class or a delegate is refused with <see cref="StateSerializationException"/> naming the member path.
/// </summary>
public static class StateSerializers
{
    private static readonly ConcurrentDictionary<Type, object> Built = new();
    private static readonly ConcurrentDictionary<Type, (Action<BinaryWriter, object> Write, Func<BinaryReader, object> Read)> Boxed = new();
    private static readonly ConcurrentDictionary<string, Type> TypesByName = new();
    private static readonly object BuildLock = new();
    private static readonly Dictionary<Type, object> InProgress = [];
    private static int buildDepth;

    /// <summary>The serializer of <typeparamref name="T"/>; throws <see cref="StateSerializationException"/> if unsupported.</summary>
    public static StateSerializer<T> For<T>() => (StateSerializer<T>)For(typeof(T));

    /// <summary>Registers a hand-written serializer for a type the rules do not cover (before any job uses it).</summary>
    public static void Register<T>(Action<BinaryWriter, T> write, Func<BinaryReader, T> read) =>
        Built[typeof(T)] = new StateSerializer<T> { WriteValue = write, ReadValue = read };

    /// <summary>Checks that every type can be serialized; the error names <paramref name="owner"/> and the type.</summary>
    public static void Validate(string owner, params Type[] types)
    {
        foreach (var t in types)
        {
            try
            {
                For(t);
            }
            catch (StateSerializationException e)
            {
                throw new StateSerializationException($"{owner} cannot checkpoint its state: {e.Message}");
            }
        }
    }

    internal static object For(Type type)
    {
        if (Built.TryGetValue(type, out var s)) return s;
        lock (BuildLock)
        {
            if (Built.TryGetValue(type, out s)) return s;
            // A type being built refers to itself (a recursive type) through its serializer before it is compiled.
            if (InProgress.TryGetValue(type, out s)) return s;
            buildDepth++;
            try
            {
                var serializer = Activator.CreateInstance(typeof(StateSerializer<>).MakeGenericType(type))!;
                InProgress[type] = serializer;
                typeof(StateSerializers).GetMethod(nameof(Compile), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(type).Invoke(null, [serializer]);
                // Published only when the outermost build is complete: other threads never see one half made.
                if (buildDepth == 1)
                {
                    foreach (var (t, built) in InProgress) Built[t] = built;
                    InProgress.Clear();
                }
                return serializer;
            }
            catch (Exception e)
            {
                // A failure anywhere in a nested build undoes every serializer that build made.
                InProgress.Clear();
                var cause = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
                if (cause is StateSerializationException) throw cause;
                throw new StateSerializationException($"{Describe(type)}: {cause.Message}");
            }
            finally
            {
                buildDepth--;
            }
        }
    }

    private static void Compile<T>(StateSerializer<T> serializer)
    {
        var w = LinqExpr.Parameter(typeof(BinaryWriter), "w");
        var v = LinqExpr.Parameter(typeof(T), "v");
        var r = LinqExpr.Parameter(typeof(BinaryReader), "r");
        string path = Describe(typeof(T));
        LinqExpr write, read;
        if (IsInline(typeof(T)))
        {
            write = InlineWrite(w, v, typeof(T));
            read = InlineRead(r, typeof(T));
        }
        else
        {
            (write, read) = Composite(w, v, r, typeof(T), path);
        }
        serializer.WriteValue = LinqExpr.Lambda<Action<BinaryWriter, T>>(write, w, v).Compile();
        serializer.ReadValue = LinqExpr.Lambda<Func<BinaryReader, T>>(read, r).Compile();
    }

    // ---- values written in place (no call to another serializer) ----

    private static readonly Dictionary<Type, string> PrimitiveReads = new()
    {
        [typeof(bool)] = nameof(BinaryReader.ReadBoolean),
        [typeof(byte)] = nameof(BinaryReader.ReadByte),
        [typeof(sbyte)] = nameof(BinaryReader.ReadSByte),
        [typeof(short)] = nameof(BinaryReader.ReadInt16),
        [typeof(ushort)] = nameof(BinaryReader.ReadUInt16),
        [typeof(int)] = nameof(BinaryReader.ReadInt32),
        [typeof(uint)] = nameof(BinaryReader.ReadUInt32),
        [typeof(long)] = nameof(BinaryReader.ReadInt64),
        [typeof(ulong)] = nameof(BinaryReader.ReadUInt64),
        [typeof(float)] = nameof(BinaryReader.ReadSingle),
        [typeof(double)] = nameof(BinaryReader.ReadDouble),
        [typeof(decimal)] = nameof(BinaryReader.ReadDecimal),
    };

    private static readonly Type[] CodecTypes =
    [
        typeof(string), typeof(byte[]), typeof(char), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan),
        typeof(DateOnly), typeof(TimeOnly), typeof(Guid), typeof(object), typeof(Row),
    ];

    private static bool IsInline(Type t) =>
        PrimitiveReads.ContainsKey(t) || t.IsEnum || CodecTypes.Contains(t) ||
        (Nullable.GetUnderlyingType(t) is { } u && IsInline(u));

    private static LinqExpr InlineWrite(LinqExpr w, LinqExpr value, Type t)
    {
        if (PrimitiveReads.ContainsKey(t)) return LinqExpr.Call(w, typeof(BinaryWriter).GetMethod(nameof(BinaryWriter.Write), [t])!, value);
        if (t.IsEnum) return InlineWrite(w, LinqExpr.Convert(value, Enum.GetUnderlyingType(t)), Enum.GetUnderlyingType(t));
        if (Nullable.GetUnderlyingType(t) is { } u)
        {
            return LinqExpr.IfThenElse(LinqExpr.Property(value, "HasValue"),
                LinqExpr.Block(WriteBool(w, true), InlineWrite(w, LinqExpr.Call(value, t.GetMethod("GetValueOrDefault", Type.EmptyTypes)!), u)),
                WriteBool(w, false));
        }
        return LinqExpr.Call(CodecMethod("Write", t), w, value);
    }

    private static LinqExpr InlineRead(LinqExpr r, Type t)
    {
        if (PrimitiveReads.TryGetValue(t, out var name)) return LinqExpr.Call(r, typeof(BinaryReader).GetMethod(name, Type.EmptyTypes)!);
        if (t.IsEnum) return LinqExpr.Convert(InlineRead(r, Enum.GetUnderlyingType(t)), t);
        if (Nullable.GetUnderlyingType(t) is { } u)
        {
            return LinqExpr.Condition(ReadBool(r), LinqExpr.Convert(InlineRead(r, u), t), LinqExpr.Default(t));
        }
        return LinqExpr.Call(CodecMethod("Read", t), r);
    }

    private static MethodInfo CodecMethod(string verb, Type t)
    {
        string name = verb + (t == typeof(byte[]) ? "Bytes" : t.Name);
        return typeof(StateCodec).GetMethod(name, BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"no codec method {name}");
    }

    private static LinqExpr WriteBool(LinqExpr w, bool b) =>
        LinqExpr.Call(w, typeof(BinaryWriter).GetMethod(nameof(BinaryWriter.Write), [typeof(bool)])!, LinqExpr.Constant(b));

    private static LinqExpr ReadBool(LinqExpr r) => LinqExpr.Call(r, typeof(BinaryReader).GetMethod(nameof(BinaryReader.ReadBoolean))!);

    /// <summary>Writes a member of any supported type: in place, or through its own serializer.</summary>
    private static LinqExpr MemberWrite(LinqExpr w, LinqExpr value, Type t, string path)
    {
        if (IsInline(t)) return InlineWrite(w, value, t);
        var nested = ForMember(t, path);
        return LinqExpr.Invoke(LinqExpr.Field(LinqExpr.Constant(nested), "WriteValue"), w, value);
    }

    private static LinqExpr MemberRead(LinqExpr r, Type t, string path)
    {
        if (IsInline(t)) return InlineRead(r, t);
        var nested = ForMember(t, path);
        return LinqExpr.Invoke(LinqExpr.Field(LinqExpr.Constant(nested), "ReadValue"), r);
    }

    private static object ForMember(Type t, string path)
    {
        try
        {
            return For(t);
        }
        catch (StateSerializationException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new StateSerializationException($"{path}: {e.Message}");
        }
    }

    // ---- collections, structs and classes ----

    private static (LinqExpr Write, LinqExpr Read) Composite(ParameterExpression w, ParameterExpression v, ParameterExpression r, Type t, string path)
    {
        if (t.IsPointer || t.IsByRef || typeof(Delegate).IsAssignableFrom(t) || t.IsInterface || t.IsAbstract || t.ContainsGenericParameters)
            throw new StateSerializationException($"{path}: type {Describe(t)} cannot be serialized (interfaces, abstract classes, delegates and pointers are not state values; register a serializer with StateSerializers.Register)");
        if (Nullable.GetUnderlyingType(t) is { } underlying)
        {
            var inner = LinqExpr.Call(v, t.GetMethod("GetValueOrDefault", Type.EmptyTypes)!);
            return (LinqExpr.IfThenElse(LinqExpr.Property(v, "HasValue"),
                    LinqExpr.Block(WriteBool(w, true), MemberWrite(w, inner, underlying, path)), WriteBool(w, false)),
                LinqExpr.Condition(ReadBool(r), LinqExpr.Convert(MemberRead(r, underlying, path), t), LinqExpr.Default(t)));
        }
        if (t.IsArray)
        {
            if (t.GetArrayRank() != 1) throw new StateSerializationException($"{path}: multi-dimensional array {Describe(t)} cannot be serialized");
            return Collection(w, v, r, t, t.GetElementType()!, nameof(StateCodec.WriteArray), nameof(StateCodec.ReadArray), path);
        }
        if (t.IsGenericType)
        {
            var def = t.GetGenericTypeDefinition();
            var args = t.GetGenericArguments();
            if (def == typeof(List<>)) return Collection(w, v, r, t, args[0], nameof(StateCodec.WriteList), nameof(StateCodec.ReadList), path);
            if (def == typeof(HashSet<>)) return Collection(w, v, r, t, args[0], nameof(StateCodec.WriteSet), nameof(StateCodec.ReadSet), path);
            if (def == typeof(Dictionary<,>))
            {
                var keySer = ForMember(args[0], path + ".Key");
                var valueSer = ForMember(args[1], path + ".Value");
                var writeM = typeof(StateCodec).GetMethod(nameof(StateCodec.WriteDictionary))!.MakeGenericMethod(args);
                var readM = typeof(StateCodec).GetMethod(nameof(StateCodec.ReadDictionary))!.MakeGenericMethod(args);
                return (LinqExpr.Call(writeM, w, v, LinqExpr.Constant(keySer), LinqExpr.Constant(valueSer)),
                    LinqExpr.Call(readM, r, LinqExpr.Constant(keySer), LinqExpr.Constant(valueSer)));
            }
        }
        bool keyValuePair = t.IsGenericType && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>);
        if (!keyValuePair && t.Namespace is { } ns && (ns.StartsWith("System.Collections", StringComparison.Ordinal) || ns == "System.Threading"))
            throw new StateSerializationException($"{path}: {Describe(t)} cannot be serialized (use an array, List, HashSet or Dictionary)");
        return Record(w, v, r, t, path);
    }

    private static (LinqExpr, LinqExpr) Collection(ParameterExpression w, ParameterExpression v, ParameterExpression r, Type t, Type element,
        string writeName, string readName, string path)
    {
        var elementSer = ForMember(element, path + "[]");
        var writeM = typeof(StateCodec).GetMethod(writeName)!.MakeGenericMethod(element);
        var readM = typeof(StateCodec).GetMethod(readName)!.MakeGenericMethod(element);
        return (LinqExpr.Call(writeM, w, v, LinqExpr.Constant(elementSer)), LinqExpr.Call(readM, r, LinqExpr.Constant(elementSer)));
    }

    private sealed record Member(string Name, Type Type, MemberInfo Info, bool Settable);

    /// <summary>A struct or class by its members: written in a fixed order, rebuilt by setters or a constructor.</summary>
    private static (LinqExpr, LinqExpr) Record(ParameterExpression w, ParameterExpression v, ParameterExpression r, Type t, string path)
    {
        const BindingFlags instance = BindingFlags.Instance | BindingFlags.Public;
        var members = new List<Member>();
        foreach (var f in t.GetFields(instance))
            members.Add(new Member(f.Name, f.FieldType, f, !f.IsInitOnly));
        foreach (var p in t.GetProperties(instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.GetMethod is not { IsPublic: true }) continue;
            if (p.PropertyType.IsByRef || p.PropertyType.IsPointer) continue;
            members.Add(new Member(p.Name, p.PropertyType, p, p.SetMethod is { IsPublic: true }));
        }

        // Everything settable after a default construction, or else the public constructor with the most parameters
        // that all name readable members.
        ConstructorInfo? ctor = null;
        List<Member> ctorMembers = [];
        bool defaultConstructible = t.IsValueType || t.GetConstructor(Type.EmptyTypes) is not null;
        var settable = members.Where(m => m.Settable).ToList();
        if (!defaultConstructible || members.Any(m => !m.Settable))
        {
            foreach (var c in t.GetConstructors().OrderByDescending(c => c.GetParameters().Length))
            {
                var ps = c.GetParameters();
                var matched = ps.Select(p => members.FirstOrDefault(m =>
                    string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase) && p.ParameterType == m.Type)).ToList();
                if (ps.Length == 0 || matched.Any(m => m is null)) continue;
                ctor = c;
                ctorMembers = matched!;
                break;
            }
            if (ctor is null && !defaultConstructible)
                throw new StateSerializationException($"{path}: {Describe(t)} has no parameterless constructor and no public constructor whose parameters all name public members");
            if (ctor is null && members.FirstOrDefault(m => !m.Settable && m.Info is FieldInfo) is { } readOnlyField)
                throw new StateSerializationException($"{path}: {Describe(t)} has a public readonly field ('{readOnlyField.Name}') that no constructor sets");
        }
        var written = ctorMembers.Concat(settable.Where(m => !ctorMembers.Contains(m))).ToList();

        if (ctor is null)
        {
            // Without a constructor to trust, private fields must be the backing fields of written properties.
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic))
            {
                bool backing = f.Name.StartsWith('<') && written.Any(m => f.Name == $"<{m.Name}>k__BackingField");
                if (!backing)
                    throw new StateSerializationException($"{path}: {Describe(t)} holds private state ('{f.Name}') that only public fields, settable properties or a constructor could restore; register a serializer with StateSerializers.Register");
            }
        }

        foreach (var m in written)
        {
            if (m.Type == t && t.IsValueType) throw new StateSerializationException($"{path}.{m.Name}: a struct cannot contain itself");
        }

        // Write: [present] members...
        var writes = new List<LinqExpr>();
        foreach (var m in written) writes.Add(MemberWrite(w, LinqExpr.MakeMemberAccess(v, m.Info), m.Type, $"{path}.{m.Name}"));
        LinqExpr write;
        if (t.IsValueType)
        {
            write = writes.Count == 0 ? LinqExpr.Empty() : LinqExpr.Block(writes);
        }
        else
        {
            var body = new List<LinqExpr>();
            if (!t.IsSealed)
            {
                // A subclass would lose its own members: refused when met.
                body.Add(LinqExpr.Call(typeof(StateCodec).GetMethod(nameof(StateCodec.CheckExactType))!, v, LinqExpr.Constant(t)));
            }
            body.Add(WriteBool(w, true));
            body.AddRange(writes);
            write = LinqExpr.IfThenElse(LinqExpr.ReferenceEqual(v, LinqExpr.Constant(null, t)), WriteBool(w, false), LinqExpr.Block(body));
        }

        // Read: members into locals in written order, then construct and assign.
        var locals = written.Select(m => LinqExpr.Variable(m.Type, m.Name)).ToList();
        var result = LinqExpr.Variable(t, "result");
        var reads = new List<LinqExpr>();
        for (int i = 0; i < written.Count; i++) reads.Add(LinqExpr.Assign(locals[i], MemberRead(r, written[i].Type, $"{path}.{written[i].Name}")));
        reads.Add(LinqExpr.Assign(result, ctor is null
            ? (t.IsValueType ? LinqExpr.Default(t) : LinqExpr.New(t))
            : LinqExpr.New(ctor, ctorMembers.Select(m => (LinqExpr)locals[written.IndexOf(m)]))));
        for (int i = ctorMembers.Count; i < written.Count; i++)
            reads.Add(LinqExpr.Assign(LinqExpr.MakeMemberAccess(result, written[i].Info), locals[i]));
        reads.Add(result);
        LinqExpr read = LinqExpr.Block(locals.Append(result), reads);
        if (!t.IsValueType) read = LinqExpr.Condition(ReadBool(r), read, LinqExpr.Constant(null, t));
        return (write, read);
    }

    internal static string Describe(Type t)
    {
        if (!t.IsGenericType) return t.IsArray ? Describe(t.GetElementType()!) + "[]" : t.Name;
        int tick = t.Name.IndexOf('`');
        // A class nested in a generic class is generic without a name of its own arity.
        if (tick < 0) return t.DeclaringType is { } outer ? $"{Describe(outer)}.{t.Name}" : t.Name;
        string name = t.Name[..tick];
        return $"{name}<{string.Join(", ", t.GetGenericArguments().Select(Describe))}>";
    }

    // ---- object: tagged with its runtime type ----

    internal static (Action<BinaryWriter, object> Write, Func<BinaryReader, object> Read) BoxedFor(Type t) =>
        Boxed.GetOrAdd(t, type =>
        {
            var serializer = For(type);
            var w = LinqExpr.Parameter(typeof(BinaryWriter), "w");
            var o = LinqExpr.Parameter(typeof(object), "o");
            var r = LinqExpr.Parameter(typeof(BinaryReader), "r");
            var field = LinqExpr.Constant(serializer);
            var write = LinqExpr.Lambda<Action<BinaryWriter, object>>(
                LinqExpr.Invoke(LinqExpr.Field(field, "WriteValue"), w, LinqExpr.Convert(o, type)), w, o).Compile();
            var read = LinqExpr.Lambda<Func<BinaryReader, object>>(
                LinqExpr.Convert(LinqExpr.Invoke(LinqExpr.Field(field, "ReadValue"), r), typeof(object)), r).Compile();
            return (write, read);
        });

    internal static Type TypeNamed(string name) => TypesByName.GetOrAdd(name, n =>
        Type.GetType(n) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(n)).FirstOrDefault(x => x is not null)
        ?? throw new StateSerializationException($"checkpoint names type '{n}', which is not loaded"));
}

/// <summary>The encodings the compiled serializers call (little endian, as <see cref="BinaryWriter"/>).</summary>
public static class StateCodec
{
    /// <summary>A length with null: 0 is null, n + 1 is n.</summary>
    private static void WriteLength(BinaryWriter w, int length) => w.Write7BitEncodedInt(length + 1);

    private static int ReadLength(BinaryReader r) => r.Read7BitEncodedInt() - 1;

    // A string's header: 0 is null; 2n + 1 is n bytes of UTF-8; 2n + 2 is n UTF-16 code units, for the rare string
    // with a lone surrogate, which UTF-8 cannot carry (a string must come back exactly: it may be a key).
    public static void WriteString(BinaryWriter w, string? s)
    {
        if (s is null)
        {
            w.Write((byte)0);
            return;
        }
        byte[]? rented = null;
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[512] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max));
        var status = System.Text.Unicode.Utf8.FromUtf16(s, buffer, out _, out int n, replaceInvalidSequences: false);
        if (status == System.Buffers.OperationStatus.Done)
        {
            w.Write7BitEncodedInt(2 * n + 1);
            w.Write(buffer[..n]);
        }
        else
        {
            w.Write7BitEncodedInt(2 * s.Length + 2);
            foreach (char c in s) w.Write((ushort)c);
        }
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    public static string? ReadString(BinaryReader r)
    {
        int header = r.Read7BitEncodedInt();
        if (header == 0) return null;
        if ((header & 1) == 0)
        {
            var chars = new char[(header - 2) / 2];
            for (int i = 0; i < chars.Length; i++) chars[i] = (char)r.ReadUInt16();
            return new string(chars);
        }
        int n = (header - 1) / 2;
        if (n == 0) return "";
        if (n <= 512)
        {
            Span<byte> buffer = stackalloc byte[n];
            r.BaseStream.ReadExactly(buffer);
            return Encoding.UTF8.GetString(buffer);
        }
        return Encoding.UTF8.GetString(ReadExactly(r, n));
    }

    public static void WriteBytes(BinaryWriter w, byte[]? bytes)
    {
        if (bytes is null)
        {
            w.Write((byte)0);
            return;
        }
        WriteLength(w, bytes.Length);
        w.Write(bytes);
    }

    public static byte[]? ReadBytes(BinaryReader r)
    {
        int n = ReadLength(r);
        return n < 0 ? null : ReadExactly(r, n);
    }

    private static byte[] ReadExactly(BinaryReader r, int n)
    {
        var bytes = r.ReadBytes(n);
        if (bytes.Length != n) throw new EndOfStreamException("state ends inside a value");
        return bytes;
    }

    // A char is a UTF-16 code unit, lone surrogates included, which BinaryWriter.Write(char) refuses.
    public static void WriteChar(BinaryWriter w, char c) => w.Write((ushort)c);

    public static char ReadChar(BinaryReader r) => (char)r.ReadUInt16();

    public static void WriteDateTime(BinaryWriter w, DateTime d) => w.Write(d.ToBinary());

    public static DateTime ReadDateTime(BinaryReader r) => DateTime.FromBinary(r.ReadInt64());

    public static void WriteDateTimeOffset(BinaryWriter w, DateTimeOffset d)
    {
        w.Write(d.Ticks);
        w.Write((short)d.Offset.TotalMinutes);
    }

    public static DateTimeOffset ReadDateTimeOffset(BinaryReader r)
    {
        long ticks = r.ReadInt64();
        return new DateTimeOffset(ticks, TimeSpan.FromMinutes(r.ReadInt16()));
    }

    public static void WriteTimeSpan(BinaryWriter w, TimeSpan t) => w.Write(t.Ticks);

    public static TimeSpan ReadTimeSpan(BinaryReader r) => new(r.ReadInt64());

    public static void WriteDateOnly(BinaryWriter w, DateOnly d) => w.Write(d.DayNumber);

    public static DateOnly ReadDateOnly(BinaryReader r) => DateOnly.FromDayNumber(r.ReadInt32());

    public static void WriteTimeOnly(BinaryWriter w, TimeOnly t) => w.Write(t.Ticks);

    public static TimeOnly ReadTimeOnly(BinaryReader r) => new(r.ReadInt64());

    public static void WriteGuid(BinaryWriter w, Guid g)
    {
        Span<byte> bytes = stackalloc byte[16];
        g.TryWriteBytes(bytes);
        w.Write(bytes);
    }

    public static Guid ReadGuid(BinaryReader r)
    {
        Span<byte> bytes = stackalloc byte[16];
        r.BaseStream.ReadExactly(bytes);
        return new Guid(bytes);
    }

    public static void WriteRow(BinaryWriter w, Row? row)
    {
        if (row is null)
        {
            w.Write((byte)0);
            return;
        }
        WriteLength(w, row.Arity);
        w.Write((byte)row.Kind);
        foreach (var f in row.Fields) WriteObject(w, f);
    }

    public static Row? ReadRow(BinaryReader r)
    {
        int n = ReadLength(r);
        if (n < 0) return null;
        var kind = (RowKind)r.ReadByte();
        var fields = new object?[n];
        for (int i = 0; i < n; i++) fields[i] = ReadObject(r);
        return new Row(kind, fields);
    }

    private enum Tag : byte
    {
        Null, Bool, SByte, Byte, Short, UShort, Int, UInt, Long, ULong, Float, Double, Decimal, Char, String, Bytes,
        DateTime, DateTimeOffset, TimeSpan, DateOnly, TimeOnly, Guid, Objects, Row, ObjectMap, Other = 255,
    }

    /// <summary>A value of any supported runtime type: a tag, then the value (other types: their name, then the value).</summary>
    public static void WriteObject(BinaryWriter w, object? o)
    {
        switch (o)
        {
            case null: w.Write((byte)Tag.Null); break;
            case bool b: w.Write((byte)Tag.Bool); w.Write(b); break;
            case sbyte sb: w.Write((byte)Tag.SByte); w.Write(sb); break;
            case byte by: w.Write((byte)Tag.Byte); w.Write(by); break;
            case short s: w.Write((byte)Tag.Short); w.Write(s); break;
            case ushort us: w.Write((byte)Tag.UShort); w.Write(us); break;
            case int i: w.Write((byte)Tag.Int); w.Write(i); break;
            case uint ui: w.Write((byte)Tag.UInt); w.Write(ui); break;
            case long l: w.Write((byte)Tag.Long); w.Write(l); break;
            case ulong ul: w.Write((byte)Tag.ULong); w.Write(ul); break;
            case float f: w.Write((byte)Tag.Float); w.Write(f); break;
            case double d: w.Write((byte)Tag.Double); w.Write(d); break;
            case decimal m: w.Write((byte)Tag.Decimal); w.Write(m); break;
            case char c: w.Write((byte)Tag.Char); WriteChar(w, c); break;
            case string str: w.Write((byte)Tag.String); WriteString(w, str); break;
            case byte[] bytes: w.Write((byte)Tag.Bytes); WriteBytes(w, bytes); break;
            case DateTime dt: w.Write((byte)Tag.DateTime); WriteDateTime(w, dt); break;
            case DateTimeOffset dto: w.Write((byte)Tag.DateTimeOffset); WriteDateTimeOffset(w, dto); break;
            case TimeSpan ts: w.Write((byte)Tag.TimeSpan); WriteTimeSpan(w, ts); break;
            case DateOnly date: w.Write((byte)Tag.DateOnly); WriteDateOnly(w, date); break;
            case TimeOnly time: w.Write((byte)Tag.TimeOnly); WriteTimeOnly(w, time); break;
            case Guid g: w.Write((byte)Tag.Guid); WriteGuid(w, g); break;
            case object?[] array when array.GetType() == typeof(object[]):
                w.Write((byte)Tag.Objects);
                WriteLength(w, array.Length);
                foreach (var e in array) WriteObject(w, e);
                break;
            case Row row: w.Write((byte)Tag.Row); WriteRow(w, row); break;
            case Dictionary<object, object?> map when map.Comparer == EqualityComparer<object>.Default:
                w.Write((byte)Tag.ObjectMap);
                WriteLength(w, map.Count);
                foreach (var (k, v) in map)
                {
                    WriteObject(w, k);
                    WriteObject(w, v);
                }
                break;
            default:
                var type = o.GetType();
                var (write, _) = StateSerializers.BoxedFor(type);
                w.Write((byte)Tag.Other);
                w.Write(type.AssemblyQualifiedName!);
                write(w, o);
                break;
        }
    }

    public static object? ReadObject(BinaryReader r)
    {
        var tag = (Tag)r.ReadByte();
        switch (tag)
        {
            case Tag.Null: return null;
            case Tag.Bool: return r.ReadBoolean();
            case Tag.SByte: return r.ReadSByte();
            case Tag.Byte: return r.ReadByte();
            case Tag.Short: return r.ReadInt16();
            case Tag.UShort: return r.ReadUInt16();
            case Tag.Int: return r.ReadInt32();
            case Tag.UInt: return r.ReadUInt32();
            case Tag.Long: return r.ReadInt64();
            case Tag.ULong: return r.ReadUInt64();
            case Tag.Float: return r.ReadSingle();
            case Tag.Double: return r.ReadDouble();
            case Tag.Decimal: return r.ReadDecimal();
            case Tag.Char: return ReadChar(r);
            case Tag.String: return ReadString(r);
            case Tag.Bytes: return ReadBytes(r);
            case Tag.DateTime: return ReadDateTime(r);
            case Tag.DateTimeOffset: return ReadDateTimeOffset(r);
            case Tag.TimeSpan: return ReadTimeSpan(r);
            case Tag.DateOnly: return ReadDateOnly(r);
            case Tag.TimeOnly: return ReadTimeOnly(r);
            case Tag.Guid: return ReadGuid(r);
            case Tag.Objects:
            {
                int n = ReadLength(r);
                var array = new object?[n];
                for (int i = 0; i < n; i++) array[i] = ReadObject(r);
                return array;
            }
            case Tag.Row: return ReadRow(r);
            case Tag.ObjectMap:
            {
                int n = ReadLength(r);
                var map = new Dictionary<object, object?>(n);
                for (int i = 0; i < n; i++)
                {
                    var k = ReadObject(r) ?? throw new InvalidDataException("a map key in state is null");
                    map[k] = ReadObject(r);
                }
                return map;
            }
            case Tag.Other:
                var type = StateSerializers.TypeNamed(r.ReadString());
                return StateSerializers.BoxedFor(type).Read(r);
            default:
                throw new InvalidDataException($"unknown value tag {(byte)tag} in state");
        }
    }

    public static void CheckExactType(object value, Type declared)
    {
        if (value.GetType() != declared)
            throw new StateSerializationException($"a {value.GetType().Name} is held where state is declared as {declared.Name}: subclasses are not serialized (declare the exact type)");
    }

    public static void WriteArray<T>(BinaryWriter w, T[]? array, StateSerializer<T> element)
    {
        if (array is null)
        {
            w.Write((byte)0);
            return;
        }
        WriteLength(w, array.Length);
        var write = element.WriteValue;
        foreach (var e in array) write(w, e);
    }

    public static T[]? ReadArray<T>(BinaryReader r, StateSerializer<T> element)
    {
        int n = ReadLength(r);
        if (n < 0) return null;
        var array = new T[n];
        var read = element.ReadValue;
        for (int i = 0; i < n; i++) array[i] = read(r);
        return array;
    }

    public static void WriteList<T>(BinaryWriter w, List<T>? list, StateSerializer<T> element)
    {
        if (list is null)
        {
            w.Write((byte)0);
            return;
        }
        WriteLength(w, list.Count);
        var write = element.WriteValue;
        foreach (var e in list) write(w, e);
    }

    public static List<T>? ReadList<T>(BinaryReader r, StateSerializer<T> element)
    {
        int n = ReadLength(r);
        if (n < 0) return null;
        var list = new List<T>(n);
        var read = element.ReadValue;
        for (int i = 0; i < n; i++) list.Add(read(r));
        return list;
    }

    public static void WriteSet<T>(BinaryWriter w, HashSet<T>? set, StateSerializer<T> element)
    {
        if (set is null)
        {
            w.Write((byte)0);
            return;
        }
        CheckDefaultComparer(set.Comparer, EqualityComparer<T>.Default);
        WriteLength(w, set.Count);
        var write = element.WriteValue;
        foreach (var e in set) write(w, e);
    }

    public static HashSet<T>? ReadSet<T>(BinaryReader r, StateSerializer<T> element)
    {
        int n = ReadLength(r);
        if (n < 0) return null;
        var set = new HashSet<T>(n);
        var read = element.ReadValue;
        for (int i = 0; i < n; i++) set.Add(read(r));
        return set;
    }

    public static void WriteDictionary<TKey, TValue>(BinaryWriter w, Dictionary<TKey, TValue>? map,
        StateSerializer<TKey> key, StateSerializer<TValue> value) where TKey : notnull
    {
        if (map is null)
        {
            w.Write((byte)0);
            return;
        }
        CheckDefaultComparer(map.Comparer, EqualityComparer<TKey>.Default);
        WriteLength(w, map.Count);
        var writeKey = key.WriteValue;
        var writeValue = value.WriteValue;
        foreach (var (k, v) in map)
        {
            writeKey(w, k);
            writeValue(w, v);
        }
    }

    public static Dictionary<TKey, TValue>? ReadDictionary<TKey, TValue>(BinaryReader r,
        StateSerializer<TKey> key, StateSerializer<TValue> value) where TKey : notnull
    {
        int n = ReadLength(r);
        if (n < 0) return null;
        var map = new Dictionary<TKey, TValue>(n);
        var readKey = key.ReadValue;
        var readValue = value.ReadValue;
        for (int i = 0; i < n; i++)
        {
            var k = readKey(r);
            map[k] = readValue(r);
        }
        return map;
    }

    // A custom comparer (e.g. case-insensitive) is not part of the data and would be lost: refused, not silently dropped.
    private static void CheckDefaultComparer<T>(IEqualityComparer<T> comparer, IEqualityComparer<T> expected)
    {
        if (!ReferenceEquals(comparer, expected) && comparer.GetType() != expected.GetType()
            && !(typeof(T) == typeof(string) && ReferenceEquals(comparer, StringComparer.Ordinal)))
            throw new StateSerializationException($"a collection in state uses a custom comparer ({comparer.GetType().Name}), which a checkpoint cannot keep");
    }
}
