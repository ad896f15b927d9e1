namespace RpcGen.Balancing.Tests;

/// <summary>Retries and hedging of idempotent calls (Polly), on a fake clock: no sleeps, no wall-clock races.</summary>
public sealed class ResilienceTests
{
    private static readonly TimeSpan Timeout = ReplicaSet.Timeout;
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(3);

    private static RpcBalancedClientOptions RetryOptions(ObservedTimeProvider clock, RpcRetryBudget? budget = null) => new()
    {
        Policy = RpcBalancingPolicy.PickFirst,
        ResolveInterval = System.Threading.Timeout.InfiniteTimeSpan,
        TimeProvider = clock,
        Retry = new RpcRetryPolicy { MaxAttempts = 3, InitialBackoff = Backoff, MaxBackoff = Backoff * 4, UseJitter = false },
        RetryBudget = budget ?? new RpcRetryBudget(),
    };

    [Fact]
    public async Task A_failed_idempotent_call_is_retried_on_another_endpoint_after_the_backoff_with_the_attempt_header()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(RetryOptions(clock));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Overloaded;

        var call = service.ReadAsync(7);
        var first = await replicas[0].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Null(first.Attempt);

        // The retry waits out its backoff on the fake clock, and not a tick less.
        await clock.WaitForTimerAsync(Backoff, Timeout);
        clock.Advance(Backoff - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        Assert.Equal(0, replicas[1].Calls);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("r1", await call.WaitAsync(Timeout));
        var second = await replicas[1].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("2", second.Attempt);
    }

    [Fact]
    public async Task A_non_idempotent_call_is_not_retried()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(RetryOptions(clock));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Overloaded;

        var failure = await Assert.ThrowsAsync<RpcException>(() => service.WorkAsync(1).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Overloaded, failure.StatusCode);
        Assert.Equal(0, replicas[1].Calls);
        Assert.False(clock.HasPendingTimer(Backoff));
    }

    [Fact]
    public async Task A_failure_whose_code_is_not_retryable_is_not_retried()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(RetryOptions(clock));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Failed;

        var failure = await Assert.ThrowsAsync<RpcException>(() => service.ReadAsync(1).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, failure.StatusCode);
        Assert.Equal(0, replicas[1].Calls);
    }

    [Fact]
    public async Task An_exhausted_retry_budget_stops_retries()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();

        // Two tokens: the first failure leaves one, which is not more than half, so no retry.
        var budget = new RpcRetryBudget(maxTokens: 2, tokenRatio: 0.5);
        await using var client = await replicas.ConnectAsync(RetryOptions(clock, budget));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Overloaded;

        var failure = await Assert.ThrowsAsync<RpcException>(() => service.ReadAsync(1).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Overloaded, failure.StatusCode);
        Assert.Equal(0, replicas[1].Calls);
        Assert.Equal(1, budget.Tokens);

        // Successes refill it: two of them (0.5 each) bring it above half again, and retries resume.
        replicas[0].FailWith = null;
        await service.ReadAsync(2).WaitAsync(Timeout);
        await service.ReadAsync(3).WaitAsync(Timeout);
        Assert.True(budget.AllowsRetry);
    }

    [Fact]
    public async Task Cancellation_during_the_backoff_ends_the_call_without_another_attempt()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(RetryOptions(clock));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Overloaded;

        using var cts = new CancellationTokenSource();
        var call = service.ReadAsync(1, cts.Token);
        await clock.WaitForTimerAsync(Backoff, Timeout);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Timeout));
        clock.Advance(Backoff * 10);
        Assert.Equal(0, replicas[1].Calls);
    }

    [Fact]
    public async Task The_callers_deadline_reaches_every_attempt()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(RetryOptions(clock));
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Overloaded;

        var deadline = DateTime.UtcNow.AddMinutes(10);
        Task<string> call;
        using (RpcDeadline.At(deadline))
        {
            call = service.ReadAsync(1);
        }

        await clock.WaitForTimerAsync(Backoff, Timeout);
        clock.Advance(Backoff);
        Assert.Equal("r1", await call.WaitAsync(Timeout));

        // Both attempts ran under the caller's one deadline (sent as time remaining, so give the wire some slack).
        var first = await replicas[0].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        var second = await replicas[1].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.InRange(first.Deadline!.Value, deadline.AddSeconds(-30), deadline.AddSeconds(1));
        Assert.InRange(second.Deadline!.Value, deadline.AddSeconds(-30), deadline.AddSeconds(1));
    }

    [Fact]
    public async Task A_hedge_goes_to_another_endpoint_after_the_delay_and_the_first_answer_cancels_the_other()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        var delay = TimeSpan.FromSeconds(2);
        await using var client = await replicas.ConnectAsync(new()
        {
            Policy = RpcBalancingPolicy.PickFirst,
            ResolveInterval = System.Threading.Timeout.InfiniteTimeSpan,
            TimeProvider = clock,
            Hedging = new RpcHedgingPolicy { MaxAttempts = 2, Delay = delay },
        });
        var service = client.GetService<IReplicaService>();
        replicas[0].Hold();

        var call = service.ReadAsync(5);
        await replicas[0].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        await clock.WaitForTimerAsync(delay, Timeout);
        Assert.Equal(0, replicas[1].Calls);
        clock.Advance(delay);

        Assert.Equal("r1", await call.WaitAsync(Timeout));
        Assert.Equal("2", (await replicas[1].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout)).Attempt);

        // The slower attempt was cancelled, and its cancellation reached its server.
        Assert.Equal(5, await replicas[0].Cancellations.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_hedge_is_sent_at_once_when_the_first_attempt_fails_with_a_non_fatal_code()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var clock = new ObservedTimeProvider();
        await using var client = await replicas.ConnectAsync(new()
        {
            Policy = RpcBalancingPolicy.PickFirst,
            ResolveInterval = System.Threading.Timeout.InfiniteTimeSpan,
            TimeProvider = clock,
            Hedging = new RpcHedgingPolicy { MaxAttempts = 2, Delay = TimeSpan.FromHours(1) },
        });
        var service = client.GetService<IReplicaService>();
        replicas[0].FailWith = RpcStatusCode.Disconnected;

        // No time passes on the fake clock: the failure itself launches the hedge.
        Assert.Equal("r1", await service.ReadAsync(1).WaitAsync(Timeout));
    }

    [Fact]
    public void The_budget_allows_retries_while_more_than_half_its_tokens_are_left()
    {
        var budget = new RpcRetryBudget(maxTokens: 4, tokenRatio: 0.25);
        Assert.True(budget.AllowsRetry);
        budget.RecordFailure();
        Assert.True(budget.AllowsRetry);
        budget.RecordFailure();
        Assert.False(budget.AllowsRetry);
        budget.RecordSuccess();
        Assert.True(budget.AllowsRetry);
        for (var i = 0; i < 100; i++)
        {
            budget.RecordSuccess();
        }

        Assert.Equal(4, budget.Tokens);
    }

    [Fact]
    public void Retry_and_hedging_together_are_refused()
    {
        var options = new RpcBalancedClientOptions { Retry = new RpcRetryPolicy(), Hedging = new RpcHedgingPolicy() };
        Assert.Throws<ArgumentException>(() => RpcBalancedClient.Create(new RpcStaticEndpointResolver("x", "tcp://127.0.0.1:1"), options));
    }
}
