using System.Buffers;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// Server interceptors around one call (<see cref="RpcServerOptions.Interceptors"/>). While they run,
/// the implementation's answer is held instead of sent: the response frame is built at once (its value
/// cannot wait) but leaves only when the outermost interceptor returns, with the trailers they added,
/// or is replaced by the error one of them threw.
/// </summary>
internal sealed partial class ServerCall : IRpcServerPipeline
{
    // Valid from RunIntercepted until Recycle; null when the server has no interceptors (then none of
    // this runs). _pipeline doubles as the flag WriteResponse and WriteError check to hold the answer.
    private PipelineState? _pipeline;

    /// <summary>What an intercepted call holds until its pipeline ends. One per intercepted call.</summary>
    private sealed class PipelineState(RpcServerInterceptor[] interceptors, IRpcDispatcher dispatcher, byte[] payload, int payloadLength)
    {
        public RpcServerInterceptor[] Interceptors { get; } = interceptors;

        public IRpcDispatcher Dispatcher { get; } = dispatcher;

        // The request, copied: an interceptor may await before the implementation reads it, and the
        // buffer it came in (the reader's, or the thread-pool copy) is reused by then. Returned to the
        // pool once read, or when the pipeline ends without reading it.
        public byte[]? Payload = payload;

        public int PayloadLength { get; } = payloadLength;

        public bool ImplementationRan;

        // The answer the implementation produced, held: a built response frame, or its failure.
        public FrameBuffer? Response;
        public Exception? Error;

        // Set when the implementation streamed its answer: the caller has it already.
        public RpcStatusCode? StreamOutcome;
    }

    /// <summary>Runs the interceptors, then the implementation, then sends the held answer and finishes the call.</summary>
    private void RunIntercepted(RpcServerInterceptor[] interceptors, IRpcDispatcher dispatcher, in ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var copy = length == 0 ? [] : ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(copy);
        _pipeline = new PipelineState(interceptors, dispatcher, copy, length);
        _ = RunPipelineAsync(_pipeline);
    }

    private async Task RunPipelineAsync(PipelineState pipeline)
    {
        Exception? failure = null;
        try
        {
            await InvokeFrom(0).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        ReturnPayload(pipeline);
        SendHeldAnswer(pipeline, failure);
        Finish();
    }

    /// <inheritdoc />
    public ValueTask InvokeFrom(int index)
    {
        var pipeline = _pipeline!;
        return index < pipeline.Interceptors.Length
            ? pipeline.Interceptors[index].InterceptAsync(this, RpcServerContinuations.Cache.At(index + 1))
            : RunImplementationAsync(pipeline);
    }

    /// <summary>
    /// The end of the pipeline: runs the implementation and completes when it has, throwing an
    /// <see cref="RpcException"/> (the status the caller will get) when it failed.
    /// </summary>
    private async ValueTask RunImplementationAsync(PipelineState pipeline)
    {
        if (pipeline.ImplementationRan)
        {
            throw new InvalidOperationException($"An interceptor of {_method.FullName} called next more than once; the implementation runs once per call.");
        }

        pipeline.ImplementationRan = true;
        ValueTask completion;
        try
        {
            completion = pipeline.Dispatcher.DispatchAsync(this, new ReadOnlySequence<byte>(pipeline.Payload!, 0, pipeline.PayloadLength));
        }
        catch (Exception ex)
        {
            completion = default;
            WriteError(ex);
        }
        finally
        {
            // The generated dispatcher reads the request synchronously.
            ReturnPayload(pipeline);
        }

        try
        {
            await completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // One-way implementations that fail asynchronously end up here.
            WriteError(ex);
        }

        if (pipeline.Error is { } error)
        {
            pipeline.Error = null;
            throw error as RpcException ?? new RpcException(Describe(error).Code, Describe(error).Message, error);
        }

        if (pipeline.StreamOutcome is { } outcome and not RpcStatusCode.Ok)
        {
            throw new RpcException(outcome, $"The response stream of {_method.FullName} ended with {outcome}.");
        }
    }

    /// <summary>Builds the response while the value is at hand; it is sent when the pipeline ends.</summary>
    private void HoldResponse<T>(T value, IRpcFormatter<T> formatter)
    {
        if (IsOneWay)
        {
            return;
        }

        _pipeline!.Response = _connection.BuildResponse(value, formatter, _codec, out var invalid);
        _pipeline.Error = invalid;
    }

    /// <summary>Records that the implementation streamed its answer (the stream's end told the caller how it ended).</summary>
    private void OnStreamed(RpcStatusCode outcome)
    {
        if (_pipeline is { } pipeline)
        {
            pipeline.StreamOutcome = outcome;
        }
    }

    /// <summary>Sends what the pipeline ended with: the held response with its trailers, or the error that replaced it.</summary>
    private void SendHeldAnswer(PipelineState pipeline, Exception? failure)
    {
        var response = pipeline.Response;
        pipeline.Response = null;

        // Whatever happened inside, this is the answer; Finish must not add another.
        Volatile.Write(ref _answered, 1);
        if (pipeline.StreamOutcome is not null)
        {
            // The stream's end was the answer, and its telemetry has been recorded.
            return;
        }

        if (failure is null && response is not null)
        {
            RpcTelemetry.StopServer(_method, _startTimestamp, _connection.SendResponse(CallId, response, PendingTrailers, AnswersOnLane), _activity);
            return;
        }

        if (response is not null)
        {
            FrameBuffer.Return(response);
        }

        if (failure is null && IsOneWay)
        {
            RpcTelemetry.StopServer(_method, _startTimestamp, RpcStatusCode.Ok, _activity);
            return;
        }

        SendError(failure ?? new RpcException(RpcStatusCode.Failed, $"An interceptor of {_method.FullName} returned without running the implementation or throwing; the call has no answer."));
    }

    private static void ReturnPayload(PipelineState pipeline)
    {
        if (pipeline.Payload is { Length: > 0 } payload)
        {
            ArrayPool<byte>.Shared.Return(payload);
        }

        pipeline.Payload = null;
    }
}
