using System;

namespace RpcGen;

/// <summary>
/// Marks a method as fire-and-forget: the client sends the request and does not wait for, or get,
/// a reply. The method must return <c>void</c> or <c>ValueTask</c>. A returned <c>ValueTask</c>
/// completes when the request has been handed to the transport, not when the server ran it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class OneWayAttribute : Attribute
{
}
