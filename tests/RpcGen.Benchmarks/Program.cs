return await RpcGen.Benchmarks.Harness.BenchmarkCli.RunAsync(args).ConfigureAwait(false);
