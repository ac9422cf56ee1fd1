using Eddy.Windows;

namespace Eddy.Tests.Windows;

public class KeySlotsTests
{
    [Fact]
    public void Slots_follow_references_through_random_acquires_and_releases()
    {
        var rnd = new Random(11);
        var slots = new KeySlots<string>();
        var held = new Dictionary<string, (int Slot, int References)>();
        for (int step = 0; step < 200_000; step++)
        {
            string key = $"k{rnd.Next(3000)}";
            if (rnd.Next(2) == 0 || !held.TryGetValue(key, out var h))
            {
                int slot = slots.Acquire(key);
                if (held.TryGetValue(key, out var before)) Assert.Equal(before.Slot, slot);
                else Assert.DoesNotContain(held.Values, v => v.Slot == slot);
                held[key] = (slot, held.GetValueOrDefault(key).References + 1);
                Assert.Equal(key, slots.KeyOf(slot));
            }
            else
            {
                slots.Release(h.Slot);
                if (h.References == 1) held.Remove(key);
                else held[key] = (h.Slot, h.References - 1);
            }
            Assert.Equal(held.Count, slots.Count);
        }
        foreach (var (key, (slot, references)) in held)
        {
            Assert.Equal(slot, slots.Acquire(key));
        }
    }
}
