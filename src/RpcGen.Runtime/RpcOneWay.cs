namespace RpcGen;

/// <summary>Support for one-way methods declared as returning <c>void</c>.</summary>
public static class RpcOneWay
{
    /// <summary>
    /// Lets a send finish in the background. A failure known at once (the connection is closed) is
    /// thrown to the caller; a later one is observed so it never surfaces as an unobserved exception.
    /// </summary>
    public static void Forget(ValueTask send)
    {
        if (send.IsCompleted)
        {
            send.GetAwaiter().GetResult();
            return;
        }

        _ = Observe(send);

        static async Task Observe(ValueTask send)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // A void one-way method has no way to report this; the connection logs it.
            }
        }
    }
}
