using NetlinkFence.Cli;

namespace NetlinkFence.Tests.Cli;

/// <summary>
/// How many denied packets between two readings were not logged (<c>learn</c>'s warning): only when the two readings
/// are of the same table and both count what they log; never below zero. The kernel side is in
/// <c>Traffic.LearnTests</c> and <c>Live.StatsPrometheusTests</c>.
/// </summary>
public sealed class UnloggedDenialsTests
{
    [Fact]
    public void The_denials_between_two_readings_beyond_the_logged_ones()
    {
        Assert.Equal(25UL, UnloggedDenials.Between(new(7, 100, 40), new(7, 130, 45)));
        Assert.Equal(0UL, UnloggedDenials.Between(new(7, 100, 40), new(7, 110, 50)));
        Assert.Equal(0UL, UnloggedDenials.Between(new(7, 100, 40), new(7, 110, 51))); // read one after the other: logged may lead by a packet
    }

    [Fact]
    public void Cannot_be_told_across_a_replaced_table_without_a_table_or_without_the_log_counter()
    {
        Assert.Null(UnloggedDenials.Between(new(7, 100, 40), new(8, 130, 45))); // replaced: its counters started again
        Assert.Null(UnloggedDenials.Between(new(7, 100, 40), new(7, 10, 5)));
        Assert.Null(UnloggedDenials.Between(null, new(7, 130, 45)));
        Assert.Null(UnloggedDenials.Between(new(7, 100, 40), null));
        Assert.Null(UnloggedDenials.Between(new(7, 100, null), new(7, 130, null))); // an older version's table
    }
}
