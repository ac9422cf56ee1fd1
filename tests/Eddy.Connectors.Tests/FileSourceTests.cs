using Eddy.Sql.Connectors;
using Eddy.Runtime;
using Eddy.Connectors;

namespace Eddy.Tests;

public class FileSourceTests
{
    private static readonly Schema AllTypes = Schema.Of(
        ("s", DataType.String), ("b", DataType.Boolean), ("ti", DataType.TinyInt), ("si", DataType.SmallInt),
        ("i", DataType.Int), ("bi", DataType.BigInt), ("f", DataType.Float), ("d", DataType.Double),
        ("dec", DataType.Decimal(10, 2)), ("date", DataType.Date), ("time", DataType.Time),
        ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3));

    private static List<Row> Read(string path, Schema schema, FileFormat format = FileFormat.JsonLines, bool ignore = false, bool header = false) =>
        SourceReading.Values(new FileSource(new FileConnectorOptions(path, format) { IgnoreParseErrors = ignore, CsvHeader = header }, schema));

    private static FileParseException ReadFails(string path, Schema schema, FileFormat format = FileFormat.JsonLines) =>
        Assert.Throws<FileParseException>(() => Read(path, schema, format));

    [Fact]
    public void Json_lines_decode_every_type()
    {
        using var dir = new TempDir();
        string file = dir.File("a.jsonl",
            """
            {"s":"héllo \"q\"","b":true,"ti":-5,"si":300,"i":70000,"bi":9000000000,"f":1.5,"d":-2.25,"dec":12.345,"date":"2024-02-29","time":"10:15:30","ts":"2024-01-01 10:00:00.123","ltz":"2024-01-01T10:00:00.5Z"}
            {"s":"x","b":"false","ti":"7","si":"-1","i":"42","bi":"-1","f":"NaN","d":"1e3","dec":"0.1","date":"1999-12-31","time":"23:59:59.999","ts":"2024-01-01T10:00:00","ltz":"2024-01-01 12:00:00+02:00"}
            """);
        var rows = Read(file, AllTypes);
        Assert.Equal(
            Row.Of("héllo \"q\"", true, (sbyte)-5, (short)300, 70000, 9_000_000_000L, 1.5f, -2.25, 12.35m,
                new DateOnly(2024, 2, 29), new TimeOnly(10, 15, 30), new DateTime(2024, 1, 1, 10, 0, 0, 123),
                new DateTimeOffset(2024, 1, 1, 10, 0, 0, 500, TimeSpan.Zero)),
            rows[0]);
        Assert.Equal(
            Row.Of("x", false, (sbyte)7, (short)-1, 42, -1L, float.NaN, 1000.0, 0.1m,
                new DateOnly(1999, 12, 31), new TimeOnly(23, 59, 59), new DateTime(2024, 1, 1, 10, 0, 0),
                new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.Zero)),
            rows[1]);
        Assert.Equal(2, rows.Count);
    }

    [Fact]
    public void Timestamps_are_read_in_sql_and_iso_forms_and_cut_to_precision()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("ts", DataType.Timestamp3), ("t0", new DataType(TypeKind.Timestamp, Precision: 0)), ("t6", new DataType(TypeKind.Timestamp, Precision: 6)));
        string file = dir.File("t.jsonl",
            """
            {"ts":"2024-05-06 07:08:09","t0":"2024-05-06 07:08:09.999","t6":"2024-05-06 07:08:09.123456789"}
            {"ts":"2024-05-06T07:08:09.1234Z","t0":"2024-05-06T07:08","t6":"2024-05-06T07:08:09.5+01:00"}
            """);
        var rows = Read(file, schema);
        var basis = new DateTime(2024, 5, 6, 7, 8, 9);
        Assert.Equal(Row.Of(basis, basis, basis.AddTicks(1_234_560)), rows[0]);
        Assert.Equal(Row.Of(basis.AddMilliseconds(123), basis.AddSeconds(-9), basis.AddHours(-1).AddMilliseconds(500)), rows[1]);
    }

    [Fact]
    public void Nested_json_read_into_a_string_column_is_its_compact_text()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("headers", DataType.String), ("tags", DataType.String), ("n", DataType.String), ("flag", DataType.String));
        string file = dir.File("n.jsonl",
            """
            {"headers": {"host": "a b", "list": [1, 2, {"x": null}], "q": "say \"hi\" "}, "tags": [ "x" , "y" ], "n": 12.50, "flag": true}
            """);
        Assert.Equal([Row.Of("""{"host":"a b","list":[1,2,{"x":null}],"q":"say \"hi\" "}""", """["x","y"]""", "12.50", "true")], Read(file, schema));
    }

    [Fact]
    public void Json_collections_and_rows_decode_into_their_types()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("arr", DataType.ArrayOf(DataType.Int)), ("m", DataType.MapOf(DataType.String, DataType.Double)),
            ("r", DataType.RowOf(new Column("x", DataType.Int), new Column("y", DataType.ArrayOf(DataType.String)))));
        string file = dir.File("c.jsonl", """{"arr":[1,null,3],"m":{"a":1.5,"b":null},"r":{"y":["p"],"z":1,"x":7}}""");
        var row = Read(file, schema).Single();
        Assert.Equal([1, null, 3], (object?[])row[0]!);
        Assert.Equal(new Dictionary<object, object?> { ["a"] = 1.5, ["b"] = null }, (Dictionary<object, object?>)row[1]!);
        var nested = (Row)row[2]!;
        Assert.Equal(7, nested[0]);
        Assert.Equal(["p"], (object?[])nested[1]!);
    }

    [Fact]
    public void Missing_and_null_fields_are_null_and_unknown_fields_are_skipped()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("a", DataType.Int), ("b", DataType.String), ("c", DataType.Double));
        string file = dir.File("m.jsonl", "{\"c\":2.5,\"extra\":{\"deep\":[1,2]},\"a\":1}\r\n\n   \n{\"b\":null}\n{}");
        Assert.Equal([Row.Of(1, null, 2.5), Row.Of(null, null, null), Row.Of(null, null, null)], Read(file, schema));
    }

    [Fact]
    public void Fail_on_missing_field_makes_a_missing_field_an_error()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("a", DataType.Int), ("b", DataType.String));
        string file = dir.File("m.jsonl", "{\"a\":1,\"b\":null}\n{\"a\":2}\n");
        var source = new FileSource(new FileConnectorOptions(file, FileFormat.JsonLines) { FailOnMissingField = true }, schema);
        Assert.Equal($"{file}:2: column 'b' is missing", Assert.Throws<FileParseException>(() => SourceReading.Values(source)).Message);
    }

    [Fact]
    public void A_bad_json_record_fails_naming_file_line_and_problem()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("id", DataType.Int), ("name", DataType.String));
        string file = dir.File("bad.jsonl", "{\"id\":1}\n\n{\"id\":\"abc\"}\n");
        var e = ReadFails(file, schema);
        Assert.Equal($"{file}:3: column 'id': expected INT, got 'abc'", e.Message);
        Assert.Equal((file, 3L), (e.FilePath, e.Line));

        file = dir.File("range.jsonl", "{\"id\":3000000000}");
        Assert.Equal($"{file}:1: column 'id': 3000000000 is out of the range of INT", ReadFails(file, schema).Message);

        file = dir.File("frac.jsonl", "{\"id\":1.5}");
        Assert.Equal($"{file}:1: column 'id': expected INT, got 1.5", ReadFails(file, schema).Message);

        file = dir.File("arr.jsonl", "[1,2]");
        Assert.Equal($"{file}:1: expected a JSON object, got an array", ReadFails(file, schema).Message);

        file = dir.File("obj.jsonl", "{\"id\":{\"a\":1}}");
        Assert.Equal($"{file}:1: column 'id': expected INT, got an object", ReadFails(file, schema).Message);

        file = dir.File("broken.jsonl", "{\"id\":1}\n{\"id\":1,\"name\":\"x\"");
        Assert.StartsWith($"{file}:2: invalid JSON: ", ReadFails(file, schema).Message);

        file = dir.File("trailing.jsonl", "{\"id\":1} x");
        Assert.StartsWith($"{file}:1: invalid JSON: ", ReadFails(file, schema).Message);

        var ts = Schema.Of(("ts", DataType.Timestamp3));
        file = dir.File("ts.jsonl", "{\"ts\":\"2024-13-01 00:00:00\"}");
        Assert.Equal($"{file}:1: column 'ts': expected TIMESTAMP(3), got '2024-13-01 00:00:00'", ReadFails(file, ts).Message);
    }

    [Fact]
    public void Ignore_parse_errors_skips_and_counts_bad_records()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("id", DataType.Int));
        string file = dir.File("bad.jsonl", "{\"id\":1}\n{\"id\":\"x\"}\nnot json\n{\"id\":4}\n");
        var source = new FileSource(new FileConnectorOptions(file, FileFormat.JsonLines) { IgnoreParseErrors = true }, schema);
        Assert.Equal([Row.Of(1), Row.Of(4)], SourceReading.Values(source));
        Assert.Equal(2, source.SkippedRecords);
    }

    [Theory]
    // A JSON string and a CSV field whose bytes are not UTF-8 (0xff cannot start a sequence; 0xc3 0x28 is cut short).
    [InlineData(FileFormat.JsonLines, "{\"s\":\"a\"}\n", "{\"s\":\"\xff\xfe\xfd\"}\n", "{\"s\":\"c\"}\n", "invalid UTF-8 at byte 6 (0xff)")]
    [InlineData(FileFormat.Csv, "a\n", "x\xc3(\n", "c\n", "field 1 ('s') holds bytes that are not UTF-8")]
    public void Invalid_utf8_is_a_bad_record_located_by_line_and_skipped_and_counted_when_ignored(FileFormat format, string first, string bad, string last, string problem)
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("s", DataType.String));
        // The strings carry the bytes as chars 0..255 (Latin-1), written out byte for byte.
        string file = dir.File("bad." + (format == FileFormat.Csv ? "csv" : "jsonl"), "");
        File.WriteAllBytes(file, System.Text.Encoding.Latin1.GetBytes(first + bad + last));
        Assert.Equal($"{file}:2: {problem}", ReadFails(file, schema, format).Message);

        var source = new FileSource(new FileConnectorOptions(file, format) { IgnoreParseErrors = true }, schema);
        var context = SourceReading.Context();
        using var reader = source.CreateReader(context);
        var output = new SourceOutput<Row>();
        var rows = new List<Row>();
        while (reader.Read(output) != SourceStatus.EndOfInput) rows.AddRange(SourceReading.Drain(output).Select(r => r.Value));
        rows.AddRange(SourceReading.Drain(output).Select(r => r.Value));
        Assert.Equal([Row.Of("a"), Row.Of("c")], rows);
        Assert.Equal(1, source.SkippedRecords);
        Assert.Equal(1, context.Metrics.Snapshot().RecordsDropped);
    }

    [Fact]
    public void Csv_decodes_every_type_by_position()
    {
        using var dir = new TempDir();
        string file = dir.File("a.csv",
            "hello,true,-5,300,70000,9000000000,1.5,-2.25,12.345,2024-02-29,10:15:30,2024-01-01 10:00:00.123,2024-01-01T10:00:00.5Z\n" +
            ",,,,,,,,,,,,\n");
        var rows = Read(file, AllTypes, FileFormat.Csv);
        Assert.Equal(
            Row.Of("hello", true, (sbyte)-5, (short)300, 70000, 9_000_000_000L, 1.5f, -2.25, 12.35m,
                new DateOnly(2024, 2, 29), new TimeOnly(10, 15, 30), new DateTime(2024, 1, 1, 10, 0, 0, 123),
                new DateTimeOffset(2024, 1, 1, 10, 0, 0, 500, TimeSpan.Zero)),
            rows[0]);
        Assert.Equal(new Row(AllTypes.Count), rows[1]);
    }

    [Fact]
    public void Csv_follows_rfc_4180_quoting()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("a", DataType.String), ("b", DataType.String), ("n", DataType.Int));
        string file = dir.File("q.csv",
            "a,b,n\r\n" +
            "\"x, y\",\"say \"\"hi\"\"\",1\r\n" +
            "\"line1\nline2\",,2\r\n" +
            "\"\",plain,3\n" +
            "\n" +
            "last,\"\",4");
        var rows = Read(file, schema, FileFormat.Csv, header: true);
        Assert.Equal(
        [
            Row.Of("x, y", "say \"hi\"", 1),
            Row.Of("line1\nline2", null, 2),
            Row.Of("", "plain", 3),
            Row.Of("last", "", 4),
        ], rows);
    }

    [Fact]
    public void Csv_arrays_use_the_element_delimiter_and_other_delimiters_work()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("tags", DataType.ArrayOf(DataType.Int)), ("name", DataType.String));
        string file = dir.File("t.csv", "1;2;;4|a;b\n");
        var source = new FileSource(new FileConnectorOptions(file, FileFormat.Csv) { CsvDelimiter = '|' }, schema);
        var row = SourceReading.Values(source).Single();
        Assert.Equal([1, 2, null, 4], (object?[])row[0]!);
        Assert.Equal("a;b", row[1]);
    }

    [Fact]
    public void A_bad_csv_record_fails_with_the_line_where_it_starts()
    {
        using var dir = new TempDir();
        var schema = Schema.Of(("a", DataType.String), ("n", DataType.Int));
        string file = dir.File("bad.csv", "\"multi\nline\",1\nx,2\ny,zz\n");
        Assert.Equal($"{file}:4: column 'n': expected INT, got 'zz'", ReadFails(file, schema, FileFormat.Csv).Message);

        file = dir.File("count.csv", "x,1\nx,2,3\n");
        Assert.Equal($"{file}:2: expected 2 fields, got 3", ReadFails(file, schema, FileFormat.Csv).Message);

        file = dir.File("quote.csv", "x,1\n\"open,2\n");
        Assert.Equal($"{file}:2: unterminated quoted field", ReadFails(file, schema, FileFormat.Csv).Message);

        file = dir.File("after.csv", "\"a\"b,1\n");
        Assert.Equal($"{file}:1: unexpected 'b' after a closing quote", ReadFails(file, schema, FileFormat.Csv).Message);

        file = dir.File("skip.csv", "x,1\n\"a\"b,1\ny,zz\nz,3\n");
        var source = new FileSource(new FileConnectorOptions(file, FileFormat.Csv) { IgnoreParseErrors = true }, schema);
        Assert.Equal([Row.Of("x", 1), Row.Of("z", 3)], SourceReading.Values(source));
        Assert.Equal(2, source.SkippedRecords);
    }

    [Fact]
    public void Csv_cannot_hold_maps_or_rows()
    {
        var e = Assert.Throws<ArgumentException>(() => new FileSource(
            new FileConnectorOptions("/nowhere", FileFormat.Csv), Schema.Of(("m", DataType.MapOf(DataType.String, DataType.Int)))));
        Assert.Equal("the csv format cannot hold column 'm' of type MAP<STRING, INT>", e.Message);
    }

    [Fact]
    public void A_folder_is_read_recursively_in_sorted_order_without_hidden_files()
    {
        using var dir = new TempDir();
        dir.File("b.jsonl", "{\"id\":2}");
        dir.File("a.jsonl", "{\"id\":1}");
        dir.File("sub/c.jsonl", "{\"id\":3}");
        dir.File(".part-0-0.jsonl.inprogress", "{\"id\":99}");
        dir.File("_SUCCESS", "{\"id\":98}");
        dir.File(".hidden/d.jsonl", "{\"id\":97}");
        Assert.Equal([Row.Of(1), Row.Of(2), Row.Of(3)], Read(dir.Path, Schema.Of(("id", DataType.Int))));
    }

    [Fact]
    public void Globs_match_star_question_mark_and_double_star()
    {
        using var dir = new TempDir();
        foreach (var f in (string[])["a1.jsonl", "a2.jsonl", "a10.jsonl", "b1.csv", "x/a3.jsonl", "x/y/a4.jsonl", "x/y/b.txt"])
            dir.File(f, "");
        string Names(string pattern) => string.Join(" ", FilePaths.Resolve(Path.Combine(dir.Path, pattern))
            .Select(p => Path.GetRelativePath(dir.Path, p).Replace('\\', '/')));
        Assert.Equal("a1.jsonl a10.jsonl a2.jsonl", Names("*.jsonl"));
        Assert.Equal("a1.jsonl a2.jsonl", Names("a?.jsonl"));
        Assert.Equal("a1.jsonl a10.jsonl a2.jsonl x/a3.jsonl x/y/a4.jsonl", Names("**/*.jsonl"));
        Assert.Equal("x/a3.jsonl x/y/a4.jsonl x/y/b.txt", Names("x/**"));
        Assert.Equal("x/y/a4.jsonl", Names("x/*/a*.jsonl"));
        Assert.Equal("", Names("nothing/*.jsonl"));
        Assert.Throws<FileNotFoundException>(() => FilePaths.Resolve(dir["missing.jsonl"]));
    }

    [Fact]
    public void Files_are_split_over_readers_one_split_per_file()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 5; i++) dir.File($"f{i}.jsonl", $"{{\"id\":{i}}}\n{{\"id\":{i + 10}}}\n");
        var source = new FileSource(new FileConnectorOptions(dir.Path, FileFormat.JsonLines), Schema.Of(("id", DataType.Int)));
        var first = SourceReading.ReadAll(source, 0, 3);
        Assert.Equal([0, 10, 3, 13], first.Select(r => (int)r.Value[0]!));
        Assert.Equal([0, 0, 1, 1], first.Select(r => r.Split));
        Assert.Equal([1, 11, 4, 14], SourceReading.Values(source, 1, 3).Select(r => (int)r[0]!));
        Assert.Equal([2, 12], SourceReading.Values(source, 2, 3).Select(r => (int)r[0]!));
        using var reader = source.CreateReader(SourceReading.Context(2, 3));
        Assert.Equal(1, reader.SplitCount);
        using var idle = source.CreateReader(SourceReading.Context(6, 7));
        Assert.Equal(0, idle.SplitCount);
    }

    [Fact]
    public void Long_lines_and_a_byte_order_mark_are_read()
    {
        using var dir = new TempDir();
        string big = new('x', 200_000);
        string file = dir["bom.jsonl"];
        File.WriteAllText(file, $"{{\"s\":\"{big}\"}}\n{{\"s\":\"b\"}}", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal([Row.Of(big), Row.Of("b")], Read(file, Schema.Of(("s", DataType.String))));
    }

    [Theory]
    [InlineData("format=xml", "table 't', option 'format': expected one of json, csv, parquet, got 'xml'")]
    [InlineData("format=jsn", "table 't', option 'format': expected one of json, csv, parquet, got 'jsn'; did you mean 'json'?")]
    [InlineData("format=json;json.ignore-parse-error=1", "table 't', option 'json.ignore-parse-error': unknown option for connector 'filesystem'; did you mean 'json.ignore-parse-errors'?")]
    [InlineData("format=json;json.bogus=1", "table 't', option 'json.bogus': unknown option for connector 'filesystem'; its options are connector, path, format, ")]
    [InlineData("format=json;csv.header=true", "table 't', option 'csv.header': an option of format 'csv', but 'format' is 'json'")]
    [InlineData("format=csv;csv.field-delimiter=ab", "table 't', option 'csv.field-delimiter': expected a single character, got 'ab'")]
    [InlineData("format=csv;csv.field-delimiter=\"", "table 't', option 'csv.field-delimiter': must not be a quote or a line break")]
    [InlineData("format=csv;csv.ignore-parse-errors=yes", "table 't', option 'csv.ignore-parse-errors': expected true or false, got 'yes'")]
    [InlineData("connector=kafka;format=csv", "table 't', option 'connector': expected 'filesystem', got 'kafka'")]
    [InlineData("format=json;json.timestamp-format.standard=RFC", "table 't', option 'json.timestamp-format.standard': expected one of SQL, ISO-8601, got 'RFC'")]
    [InlineData("format=json;source.monitor-interval=10 s", "table 't', option 'source.monitor-interval': continuous monitoring is not supported by Eddy: the source reads the path once, as a bounded source (remove the option)")]
    [InlineData("format=json;sink.rolling-policy.rollover-interval=soon", "table 't', option 'sink.rolling-policy.rollover-interval': expected a duration such as '5000', '10 s' or '1 min', got 'soon'")]
    [InlineData("format=json;sink.rolling-policy.file-size=0", "table 't', option 'sink.rolling-policy.file-size': must be positive")]
    public void Bad_file_options_fail_naming_the_option(string options, string message)
    {
        var dict = options.Split(';').Select(o => o.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        dict["path"] = "/tmp/x";
        Assert.StartsWith(message, Assert.Throws<ConnectorOptionException>(() => FileConnectorOptions.Parse("t", dict)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_path_and_format_are_named()
    {
        Assert.Equal("table 't', option 'path': missing: connector 'filesystem' requires it (the file, folder (read recursively) or glob to read, or the file or folder to write; a local path or file:// URI)",
            Assert.Throws<ConnectorOptionException>(() => FileConnectorOptions.Parse("t", new Dictionary<string, string> { ["format"] = "csv" })).Message);
        Assert.StartsWith("table 't', option 'format': missing: connector 'filesystem' requires it",
            Assert.Throws<ConnectorOptionException>(() => FileConnectorOptions.Parse("t", new Dictionary<string, string> { ["path"] = "/x" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flink_option_names_configure_the_source()
    {
        var options = FileConnectorOptions.Parse("t", new Dictionary<string, string>
        {
            ["connector"] = "filesystem", ["path"] = "/data", ["format"] = "csv", ["csv.ignore-parse-errors"] = "true",
            ["csv.field-delimiter"] = "\\t", ["csv.header"] = "true",
        });
        Assert.Equal(new FileConnectorOptions("/data", FileFormat.Csv) { IgnoreParseErrors = true, CsvDelimiter = '\t', CsvHeader = true }, options);
        var json = FileConnectorOptions.Parse("t", new Dictionary<string, string>
        {
            ["path"] = "/data", ["format"] = "json", ["json.fail-on-missing-field"] = "true", ["json.timestamp-format.standard"] = "ISO-8601",
        });
        Assert.Equal(new FileConnectorOptions("/data", FileFormat.JsonLines) { FailOnMissingField = true, TimestampFormat = TimestampFormat.Iso8601 }, json);
    }
}
