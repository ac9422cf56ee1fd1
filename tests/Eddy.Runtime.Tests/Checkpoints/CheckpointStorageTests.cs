using Eddy.Runtime;

namespace Eddy.Tests.Checkpoints;

public class CheckpointStorageTests
{
    internal static CheckpointData Sample(long id, int seed = 1)
    {
        var rng = new Random(seed);
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            rng.NextBytes(b);
            return b;
        }
        var window = new OperatorSnapshot("3:SlicingWindowOperator:window", 2,
        [
            new SubtaskSnapshot(0, 0, 64, Bytes(10), new Dictionary<int, byte[]> { [1] = Bytes(100), [63] = Bytes(7) }),
            new SubtaskSnapshot(1, 64, 128, [], new Dictionary<int, byte[]> { [64] = Bytes(5000) }),
        ]);
        var source = new OperatorSnapshot("1:source:Kafka", 1, [new SubtaskSnapshot(0, 0, 128, Bytes(24), new Dictionary<int, byte[]>())]);
        return new CheckpointData(id, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + id), "orders", 128, [source, window]);
    }

    internal static void AssertSame(CheckpointData expected, CheckpointData actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Timestamp, actual.Timestamp);
        Assert.Equal(expected.JobName, actual.JobName);
        Assert.Equal(expected.MaxParallelism, actual.MaxParallelism);
        Assert.Equal(expected.Operators.Count, actual.Operators.Count);
        foreach (var (e, a) in expected.Operators.Zip(actual.Operators))
        {
            Assert.Equal(e.StateId, a.StateId);
            Assert.Equal(e.Parallelism, a.Parallelism);
            foreach (var (es, s) in e.Subtasks.Zip(a.Subtasks))
            {
                Assert.Equal((es.Subtask, es.KeyGroupStart, es.KeyGroupEnd), (s.Subtask, s.KeyGroupStart, s.KeyGroupEnd));
                Assert.Equal(es.OperatorState, s.OperatorState);
                Assert.Equal(es.KeyGroups.Keys.Order(), s.KeyGroups.Keys.Order());
                foreach (var (kg, bytes) in es.KeyGroups) Assert.Equal(bytes, s.KeyGroups[kg]);
            }
        }
    }

    [Fact]
    public void A_checkpoint_written_and_loaded_is_the_same_and_lives_in_its_own_folder()
    {
        var storage = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        var data = Sample(4);
        string path = storage.Write(data);
        Assert.Equal(Path.Combine(storage.Location, "chk-4"), path);
        Assert.True(File.Exists(Path.Combine(path, "_metadata")));
        Assert.Equal(3, Directory.GetFiles(path, "*.state").Length);
        AssertSame(data, storage.Load(4));
        AssertSame(data, LocalCheckpointStorage.LoadFolder(path));
        Assert.Equal(path, storage.Load(4).Path);
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_retained()
    {
        var storage = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        for (int id = 1; id <= 6; id++)
        {
            storage.Write(Sample(id));
            storage.Retain(3);
        }
        Assert.Equal([4L, 5L, 6L], storage.List());
        Assert.Equal(["chk-4", "chk-5", "chk-6"], Directory.GetDirectories(storage.Location).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_folder_left_by_a_torn_write_is_not_a_checkpoint_but_its_id_is_not_reused()
    {
        var storage = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        storage.Write(Sample(1));
        var torn = Path.Combine(storage.Location, "chk-2.inprogress-1234abcd");
        Directory.CreateDirectory(torn);
        File.WriteAllBytes(Path.Combine(torn, "op-0-0.state"), [1, 2, 3]);
        Assert.Equal([1L], storage.List());
        Assert.Equal(2, storage.HighestId());
        Assert.Equal(1, storage.LoadLatest(_ => { })!.Id);
        storage.RemoveIncomplete();
        Assert.False(Directory.Exists(torn));
    }

    public static TheoryData<string> Damages => new() { "flip-state", "truncate-state", "flip-metadata", "truncate-metadata", "delete-state", "empty-metadata" };

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_newest_checkpoint_falls_back_to_the_previous_one_with_a_warning(string damage)
    {
        var storage = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        storage.Write(Sample(1, seed: 1));
        var newest = storage.Write(Sample(2, seed: 2));
        string state = Directory.GetFiles(newest, "*.state").OrderByDescending(f => new FileInfo(f).Length).First();
        string meta = Path.Combine(newest, "_metadata");
        switch (damage)
        {
            case "flip-state":
                var bytes = File.ReadAllBytes(state);
                bytes[bytes.Length / 2] ^= 0x40;
                File.WriteAllBytes(state, bytes);
                break;
            case "truncate-state":
                using (var f = new FileStream(state, FileMode.Open)) f.SetLength(f.Length - 100);
                break;
            case "flip-metadata":
                var m = File.ReadAllBytes(meta);
                m[30] ^= 0x01;
                File.WriteAllBytes(meta, m);
                break;
            case "truncate-metadata":
                using (var f = new FileStream(meta, FileMode.Open)) f.SetLength(f.Length / 2);
                break;
            case "delete-state":
                File.Delete(state);
                break;
            case "empty-metadata":
                File.WriteAllBytes(meta, []);
                break;
        }
        Assert.Throws<InvalidDataException>(() => storage.Load(2));
        var warnings = new List<string>();
        var loaded = storage.LoadLatest(warnings.Add);
        Assert.NotNull(loaded);
        AssertSame(Sample(1, seed: 1), loaded);
        var warning = Assert.Single(warnings);
        Assert.Contains("checkpoint 2", warning);
        Assert.Contains("falling back to checkpoint 1", warning);
    }

    [Fact]
    public void When_every_checkpoint_is_damaged_nothing_is_loaded_and_each_is_named()
    {
        var storage = new LocalCheckpointStorage(CheckpointTestDirs.NewTemp());
        foreach (var id in new[] { 1L, 2L })
        {
            var path = storage.Write(Sample(id));
            File.WriteAllBytes(Path.Combine(path, "_metadata"), [1, 2, 3]);
        }
        var warnings = new List<string>();
        Assert.Null(storage.LoadLatest(warnings.Add));
        Assert.Equal(2, warnings.Count);
        Assert.Contains("no older checkpoint is left", warnings[1]);
    }

    [Fact]
    public void The_job_folder_follows_EDDY_HOME_then_XDG_DATA_HOME_then_the_home_folder()
    {
        Assert.Equal(Path.Combine("/e", "jobs", "my_job"), JobDataPaths.JobFolder("my job", v => v == "EDDY_HOME" ? "/e" : "/x"));
        Assert.Equal(Path.Combine("/x", "eddy", "jobs", "orders"), JobDataPaths.JobFolder("orders", v => v == "XDG_DATA_HOME" ? "/x" : null));
        Assert.EndsWith(Path.Combine(".local", "share", "eddy", "jobs", "orders"), JobDataPaths.JobFolder("orders", _ => null));
    }
}
