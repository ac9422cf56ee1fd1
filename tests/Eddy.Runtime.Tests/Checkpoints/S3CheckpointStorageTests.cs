using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Eddy.Runtime;
using static Eddy.Tests.Checkpoints.CheckpointStorageTests;

namespace Eddy.Tests.Checkpoints;

/// <summary>
/// The s3:// checkpoint storage against the stand-in S3 server (<see cref="S3StandIn"/>): the objects it writes are
/// the local storage's files byte for byte, completion is atomic (the metadata object last), incomplete and damaged
/// checkpoints are never restored, retention removes old ones, and a wrong store is an error naming the option.
/// </summary>
public sealed class S3CheckpointStorageTests
{
    private static S3StandIn Server => S3StandIn.Instance;

    private static ICheckpointStorage Open(string location) => CheckpointStorages.Open(location, Server.Settings);

    /// <summary>A client of its own, to look at and damage objects behind the storage's back.</summary>
    private static AmazonS3Client Client() => new(new BasicAWSCredentials(S3StandIn.AccessKey, S3StandIn.SecretKey), new AmazonS3Config
    {
        ServiceURL = Server.Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    });

    private static string Prefix(string location) => new Uri(location).AbsolutePath.TrimStart('/');

    private static List<string> Keys(string location)
    {
        using var client = Client();
        var page = client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "eddy-test", Prefix = Prefix(location) + "/" }).GetAwaiter().GetResult();
        return (page.S3Objects ?? []).Select(o => o.Key[(Prefix(location).Length + 1)..]).Order(StringComparer.Ordinal).ToList();
    }

    private static byte[] Get(string location, string name)
    {
        using var client = Client();
        using var r = client.GetObjectAsync("eddy-test", Prefix(location) + "/" + name).GetAwaiter().GetResult();
        var ms = new MemoryStream();
        r.ResponseStream.CopyTo(ms);
        return ms.ToArray();
    }

    private static void Put(string location, string name, byte[] bytes)
    {
        using var client = Client();
        client.PutObjectAsync(new PutObjectRequest { BucketName = "eddy-test", Key = Prefix(location) + "/" + name, InputStream = new MemoryStream(bytes), UseChunkEncoding = false })
            .GetAwaiter().GetResult();
    }

    private static void Remove(string location, string name)
    {
        using var client = Client();
        client.DeleteObjectAsync("eddy-test", Prefix(location) + "/" + name).GetAwaiter().GetResult();
    }

    [Fact]
    public void A_checkpoint_is_stored_as_the_local_files_byte_for_byte_and_loads_back()
    {
        string location = S3StandIn.NewLocation("roundtrip");
        var storage = Open(location);
        var data = Sample(4);
        Assert.Equal(location + "/chk-4", storage.Write(data));
        Assert.Equal([4L], storage.List());
        AssertSame(data, storage.Load(4));
        Assert.Equal(location + "/chk-4", storage.Load(4).Path);

        // The same checkpoint written by the local storage: every object equals its file.
        var local = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        string folder = local.Write(data);
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => "chk-4/" + f).ToList();
        Assert.Equal(files, Keys(location));
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(folder, f[6..])), Get(location, f));

        Assert.Throws<IOException>(() => storage.Write(data));
    }

    [Fact]
    public void State_objects_without_metadata_are_not_a_checkpoint_but_their_id_is_not_reused_and_they_are_removed()
    {
        string location = S3StandIn.NewLocation("torn");
        var storage = Open(location);
        storage.Write(Sample(1));
        // A writer killed after uploading its state objects and before the metadata object.
        var local = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        string folder = local.Write(Sample(2));
        foreach (var f in Directory.GetFiles(folder, "*.state")) Put(location, "chk-2/" + Path.GetFileName(f), File.ReadAllBytes(f));

        Assert.Equal([1L], storage.List());
        Assert.Equal(2, storage.HighestId());
        Assert.Equal(1, storage.LoadLatest(_ => { })!.Id);
        Assert.Throws<InvalidDataException>(() => storage.Load(2));
        storage.RemoveIncomplete();
        Assert.DoesNotContain(Keys(location), k => k.StartsWith("chk-2/", StringComparison.Ordinal));
        Assert.Contains("chk-1/_metadata", Keys(location));
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_retained_and_clear_removes_all()
    {
        string location = S3StandIn.NewLocation("retain");
        var storage = Open(location);
        for (int id = 1; id <= 5; id++)
        {
            storage.Write(Sample(id));
            storage.Retain(2);
        }
        Assert.Equal([4L, 5L], storage.List());
        Assert.Equal(["chk-4", "chk-5"], Keys(location).Select(k => k[..k.IndexOf('/')]).Distinct());
        storage.Clear();
        Assert.Empty(Keys(location));
    }

    [Fact]
    public void Listings_longer_than_a_page_are_followed_to_the_end()
    {
        string location = S3StandIn.NewLocation("paged");
        var storage = new S3CheckpointStorage(Eddy.Runtime.S3Location.Parse(location), Server.Settings) { ListPageSize = 2 };
        for (int id = 1; id <= 4; id++) storage.Write(Sample(id));
        Assert.Equal([1L, 2L, 3L, 4L], storage.List());
        Assert.Equal(4, storage.HighestId());
        storage.Delete(2);
        Assert.Equal([1L, 3L, 4L], storage.List());
        Assert.DoesNotContain(Keys(location), k => k.StartsWith("chk-2/", StringComparison.Ordinal));
    }

    public static TheoryData<string> Damages => new() { "flip-state", "truncate-state", "delete-state", "flip-metadata" };

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_newest_checkpoint_falls_back_to_the_previous_one_with_a_warning(string damage)
    {
        string location = S3StandIn.NewLocation("damaged");
        var storage = Open(location);
        storage.Write(Sample(1, seed: 1));
        storage.Write(Sample(2, seed: 2));
        string state = Keys(location).Where(k => k.StartsWith("chk-2/", StringComparison.Ordinal) && k.EndsWith(".state", StringComparison.Ordinal))
            .OrderByDescending(k => Get(location, k).Length).First();
        switch (damage)
        {
            case "flip-state":
                var bytes = Get(location, state);
                bytes[bytes.Length / 2] ^= 0x40;
                Put(location, state, bytes);
                break;
            case "truncate-state":
                Put(location, state, Get(location, state)[..^100]);
                break;
            case "delete-state":
                Remove(location, state);
                break;
            case "flip-metadata":
                var m = Get(location, "chk-2/_metadata");
                m[30] ^= 0x01;
                Put(location, "chk-2/_metadata", m);
                break;
        }
        var e = Assert.Throws<InvalidDataException>(() => storage.Load(2));
        Assert.Contains(location + "/chk-2", e.Message);
        var warnings = new List<string>();
        var loaded = storage.LoadLatest(warnings.Add);
        Assert.NotNull(loaded);
        AssertSame(Sample(1, seed: 1), loaded);
        var warning = Assert.Single(warnings);
        Assert.Contains("checkpoint 2", warning);
        Assert.Contains("falling back to checkpoint 1", warning);
    }

    [Fact]
    public void Large_state_goes_up_in_parts_and_comes_back_whole()
    {
        string location = S3StandIn.NewLocation("multipart");
        var storage = new S3CheckpointStorage(Eddy.Runtime.S3Location.Parse(location), Server.Settings) { MultipartThreshold = 5L << 20, PartSize = 5L << 20 };
        var rng = new Random(7);
        var big = new byte[12 << 20];
        rng.NextBytes(big);
        var data = new CheckpointData(3, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), "big", 128,
            [new OperatorSnapshot("2:window", 1, [new SubtaskSnapshot(0, 0, 128, [1, 2, 3], new Dictionary<int, byte[]> { [5] = big, [9] = [4, 5] })])]);
        storage.Write(data);
        AssertSame(data, storage.Load(3));
    }

    [Fact]
    public void A_savepoint_is_written_under_its_own_prefix_and_restores_from_there()
    {
        string location = S3StandIn.NewLocation("savepoint");
        var data = Sample(8);
        Assert.Equal(location, CheckpointStorages.WriteSavepoint(location, data, Server.Settings));
        AssertSame(data, CheckpointStorages.LoadRestorePath(location, Server.Settings, _ => { }));
        // A checkpoints prefix restores its newest valid checkpoint.
        string checkpoints = S3StandIn.NewLocation("checkpoints");
        Open(checkpoints).Write(Sample(2));
        Assert.Equal(2, CheckpointStorages.LoadRestorePath(checkpoints, Server.Settings, _ => { }).Id);
        var empty = Assert.Throws<InvalidOperationException>(() => CheckpointStorages.LoadRestorePath(S3StandIn.NewLocation("nothing"), Server.Settings, _ => { }));
        Assert.Contains("holds no valid checkpoint", empty.Message);
    }

    [Fact]
    public void A_missing_bucket_is_an_error_naming_the_checkpoint_directory()
    {
        var e = Assert.Throws<CheckpointStorageException>(() => CheckpointStorages.Open("s3://no-such-bucket/x", Server.Settings));
        Assert.Equal("execution.checkpointing.dir", e.Option);
        Assert.Contains("bucket 'no-such-bucket' does not exist", e.Message);
    }

    [Fact]
    public void An_endpoint_nobody_listens_on_is_an_error_naming_the_endpoint_option()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = Assert.Throws<CheckpointStorageException>(() =>
            CheckpointStorages.Open("s3://eddy-test/x", Server.Settings with { Endpoint = $"http://127.0.0.1:{port}" }));
        Assert.Equal("s3.endpoint", e.Option);
        Assert.Contains($"cannot reach http://127.0.0.1:{port}", e.Message);
    }

    [Fact]
    public void Wrong_or_half_given_credentials_name_their_option_and_never_show_the_secret()
    {
        // s3rver checks the access key but not a version 4 signature, so a wrong secret key is not caught here.
        var wrongKey = Assert.Throws<CheckpointStorageException>(() =>
            CheckpointStorages.Open("s3://eddy-test/x", Server.Settings with { AccessKey = "NOT-A-KEY", SecretKey = "not-the-secret" }));
        Assert.Equal("s3.access-key", wrongKey.Option);
        Assert.DoesNotContain("not-the-secret", wrongKey.Message);
        var half = Assert.Throws<CheckpointStorageException>(() =>
            CheckpointStorages.Open("s3://eddy-test/x", Server.Settings with { SecretKey = null }));
        Assert.Equal("s3.secret-key", half.Option);
        Assert.DoesNotContain("S3RVER", (Server.Settings with { SecretKey = "hidden-one" }).ToString());
        Assert.DoesNotContain("hidden-one", (Server.Settings with { SecretKey = "hidden-one" }).ToString());
    }

    [Theory]
    [InlineData("hdfs://namenode/checkpoints", "scheme 'hdfs://' is not supported")]
    [InlineData("s3://Bad_Bucket/x", "is not a bucket name")]
    [InlineData("s3://", "is not a bucket name")]
    public void Locations_that_are_neither_a_folder_nor_s3_are_refused(string location, string reason)
    {
        var e = Assert.Throws<FormatException>(() => CheckpointStorages.Validate(location));
        Assert.Contains(reason, e.Message);
        Assert.Contains("execution.checkpointing.dir", e.Message);
    }
}
