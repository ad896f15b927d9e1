namespace RpcGen.Runtime.Tests;

public class DeadlineTests
{
    [Fact]
    public void A_scope_sets_the_deadline_and_restores_the_outer_one()
    {
        Assert.Null(RpcDeadline.Current);
        using (RpcDeadline.After(TimeSpan.FromMinutes(10)))
        {
            var outer = RpcDeadline.Current;
            Assert.NotNull(outer);
            using (RpcDeadline.After(TimeSpan.FromMinutes(1)))
            {
                Assert.True(RpcDeadline.Current < outer);
            }

            using (RpcDeadline.After(TimeSpan.FromHours(1)))
            {
                // An inner scope cannot extend an enclosing deadline.
                Assert.Equal(outer, RpcDeadline.Current);
            }

            Assert.Equal(outer, RpcDeadline.Current);
        }

        Assert.Null(RpcDeadline.Current);
    }
}
