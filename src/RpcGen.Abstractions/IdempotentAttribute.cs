using System;

namespace RpcGen;

/// <summary>
/// Marks a method as safe to run more than once with the same arguments (a read, or a write that
/// sets rather than adds). A reconnecting client re-sends a call to such a method, once, on its new
/// connection when the connection the call was in flight on dropped; any other call in flight then
/// fails with <c>RpcStatusCode.Disconnected</c>, because the server may or may not have run it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class IdempotentAttribute : Attribute
{
}
