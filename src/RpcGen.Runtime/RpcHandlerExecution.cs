namespace RpcGen;

/// <summary>Where a connection runs the user code it is handed: service methods, callbacks and stream producers.</summary>
public enum RpcHandlerExecution
{
    /// <summary>
    /// On the thread pool (the default). The connection's reader hands each call over and goes on
    /// reading, so a handler that blocks (a <c>Thread.Sleep</c>, a synchronous database call, a
    /// <c>.Result</c> on a callback into the caller) holds up only itself.
    /// </summary>
    ThreadPool = 0,

    /// <summary>
    /// On the connection's reader, up to the handler's first incomplete <c>await</c>. Saves one
    /// thread-pool hop per call, for handlers that never block. The risk is the user's: while a
    /// handler blocks, no other call on that connection is read, and a handler that waits
    /// synchronously for a callback into the caller deadlocks the connection (the answer it waits
    /// for can only be read by the reader it is blocking).
    /// </summary>
    Inline = 1,
}
