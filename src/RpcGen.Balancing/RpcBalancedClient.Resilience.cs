using System.Globalization;
using Polly;
using Polly.Hedging;
using Polly.Retry;

namespace RpcGen.Balancing;

/// <summary>Retries and hedging of calls to <c>[Idempotent]</c> methods, run by Polly pipelines (one per method, built on first use).</summary>
public sealed partial class RpcBalancedClient
{
    private async ValueTask<TResponse> InvokeResilientAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        // One deadline for the whole call: every attempt, backoff and hedge runs within it.
        using var deadline = SpanningDeadline();
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            // The pipeline is typed object, so one serves every method: Polly's typed strategies ask
            // for result types kept whole by the trimmer, which a generic call site cannot promise.
            return (TResponse)(await _pipeline!.ExecuteAsync(
                static async (context, call) => (object?)await call.Client.InvokeAttemptAsync(call.Method, call.Request, call.Attempts, context.CancellationToken).ConfigureAwait(false),
                context,
                new ResilientCall<TRequest, TResponse>(this, method, request, new CallAttempts())).ConfigureAwait(false))!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>One attempt (the first, a retry or a hedge): numbered, marked with <see cref="AttemptHeader"/> from the second on, and counted in the budget.</summary>
    private async ValueTask<TResponse> InvokeAttemptAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CallAttempts attempts, CancellationToken cancellationToken)
    {
        var number = attempts.Start();
        using var headers = number > 1 ? RpcMetadataScope.Begin() : null;
        headers?.RequestHeaders.Set(AttemptHeader, number.ToString(CultureInfo.InvariantCulture));
        try
        {
            var response = await RunAsync(
                (method, request),
                static (client, call, token) => client.InvokeAsync(call.method, call.request, token),
                method,
                attempts,
                cancellationToken).ConfigureAwait(false);
            _options.RetryBudget.RecordSuccess();
            return response;
        }
        catch (RpcException ex)
        {
            BalancerLog.AttemptFailed(_logger, method.FullName, number, ex.Message);
            if (IsRetryable(ex.StatusCode))
            {
                _options.RetryBudget.RecordFailure();
            }

            throw;
        }
    }

    private bool IsRetryable(RpcStatusCode code) =>
        _options.Retry?.RetryableStatusCodes.Contains(code) ?? _options.Hedging?.NonFatalStatusCodes.Contains(code) ?? false;

    /// <summary>The retry or hedging pipeline of <paramref name="options"/>, or null when it has neither.</summary>
    private static ResiliencePipeline<object?>? BuildPipeline(RpcBalancedClientOptions options)
    {
        var budget = options.RetryBudget;
        var builder = new ResiliencePipelineBuilder<object?> { TimeProvider = options.TimeProvider };
        if (options.Retry is { } retry)
        {
            builder.AddRetry(new RetryStrategyOptions<object?>
            {
                MaxRetryAttempts = retry.MaxAttempts - 1,
                Delay = retry.InitialBackoff,
                MaxDelay = retry.MaxBackoff,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = retry.UseJitter,
                ShouldHandle = arguments => ValueTask.FromResult(
                    arguments.Outcome.Exception is RpcException failure && retry.RetryableStatusCodes.Contains(failure.StatusCode) && budget.AllowsRetry),
            });
        }
        else if (options.Hedging is { } hedging)
        {
            builder.AddHedging(new HedgingStrategyOptions<object?>
            {
                MaxHedgedAttempts = hedging.MaxAttempts - 1,
                Delay = hedging.Delay,
                ShouldHandle = arguments => ValueTask.FromResult(
                    arguments.Outcome.Exception is RpcException failure && hedging.NonFatalStatusCodes.Contains(failure.StatusCode)),

                // An exhausted budget sends no more hedges; the attempts already running go on.
                ActionGenerator = arguments => budget.AllowsRetry ? () => arguments.Callback(arguments.ActionContext) : null,
            });
        }

        else
        {
            return null;
        }

        return builder.Build();
    }

    private readonly record struct ResilientCall<TRequest, TResponse>(RpcBalancedClient Client, RpcMethod<TRequest, TResponse> Method, TRequest Request, CallAttempts Attempts);
}
