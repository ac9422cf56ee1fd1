using Eddy.Windows;

namespace Eddy.Tests.Windows;

public class TimerQueueTests
{
    [Fact]
    public void Mixed_ordered_and_unordered_timers_come_out_in_time_order()
    {
        var rnd = new Random(3);
        var queue = new TimerQueue<int>();
        var expected = new List<long>();
        long t = 0;
        for (int i = 0; i < 5000; i++)
        {
            t += rnd.Next(0, 5);
            long time = rnd.Next(4) == 0 ? t - rnd.Next(0, 200) : t;
            queue.Enqueue(i, time);
            expected.Add(time);
        }
        var actual = new List<long>();
        while (queue.TryPeek(out _, out long time))
        {
            queue.Dequeue();
            actual.Add(time);
        }
        Assert.Equal(expected.Order(), actual);
        Assert.Equal(0, queue.Count);
    }
}
