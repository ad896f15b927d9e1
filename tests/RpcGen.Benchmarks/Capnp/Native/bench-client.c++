// Times BenchNode calls (bench.capnp) with the C++ reference client for the --capnp benchmarks.
// Usage: bench-client ADDRESS MODE WARMUP_MS MEASURE_MS MAX_CALLS
//   MODE: echo       one echoSmall call per operation
//         pipelined  root.next().next().read(), each call on the previous one's pipelined
//                    capability, only the last awaited
//         awaited    the same three calls, each awaited before the next is sent
//         release    root.nextTracked(), a read() on it, then the node is dropped and waitDropped()
//                    awaited: the operation timed is drop -> the server destroyed the node (seen
//                    by that call's return)
// Checks one operation's result, warms up for WARMUP_MS, then runs operations one at a time until
// MEASURE_MS have passed or MAX_CALLS were made, and prints
//   CALLS <count> ELAPSED_NS <wall time>
//   LATENCIES_NS <one steady_clock duration per operation, space separated>

#include "bench.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/debug.h>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Runner {
  BenchNode::Client root;
  kj::WaitScope& waitScope;

  // Returns something derived from the results so the work cannot be skipped; checked once.
  int64_t echo() {
    auto request = root.echoSmallRequest();
    auto message = request.initMessage();
    message.setId(42);
    message.setName("small-request");
    message.setValue(3.25);
    message.setTimestamp(638000000000000000LL);
    message.setFlag(true);
    auto answer = request.send().wait(waitScope);
    auto response = answer.getResult();
    return response.getId() + static_cast<int64_t>(response.getName().size()) + (response.getFlag() ? 1 : 0);
  }

  int64_t pipelined() {
    auto first = root.nextRequest().send();
    auto second = first.getNode().nextRequest().send();
    return second.getNode().readRequest().send().wait(waitScope).getDepth();
  }

  int64_t awaited() {
    auto first = root.nextRequest().send().wait(waitScope);
    auto second = first.getNode().nextRequest().send().wait(waitScope);
    return second.getNode().readRequest().send().wait(waitScope).getDepth();
  }

  // The last release() operation's drop -> waitDropped() return, which is all that mode times.
  int64_t lastDropNanoseconds = 0;

  int64_t release() {
    int64_t depth;
    Clock::time_point start;
    {
      auto node = root.nextTrackedRequest().send().getNode();
      depth = node.readRequest().send().wait(waitScope).getDepth();
      start = Clock::now();
    }  // the node's last reference goes here: the client sends Release
    root.waitDroppedRequest().send().wait(waitScope);
    lastDropNanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    return depth;
  }

  int64_t run(const std::string& mode) {
    if (mode == "echo") return echo();
    if (mode == "pipelined") return pipelined();
    if (mode == "release") return release();
    return awaited();
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 6) {
    std::cerr << "usage: " << argv[0] << " ADDRESS echo|pipelined|awaited|release WARMUP_MS MEASURE_MS MAX_CALLS" << std::endl;
    return 2;
  }

  std::string mode = argv[2];
  if (mode != "echo" && mode != "pipelined" && mode != "awaited" && mode != "release") {
    std::cerr << "unknown mode " << mode << std::endl;
    return 2;
  }

  auto warmup = std::chrono::milliseconds(std::atol(argv[3]));
  auto measure = std::chrono::milliseconds(std::atol(argv[4]));
  size_t maxCalls = std::strtoul(argv[5], nullptr, 10);

  capnp::EzRpcClient client(argv[1]);
  Runner runner{client.getMain<BenchNode>(), client.getWaitScope()};

  int64_t expected = mode == "echo" ? 42 + 13 + 1 : mode == "release" ? 1 : 2;
  int64_t got = runner.run(mode);
  if (got != expected) {
    std::cerr << "CHECK FAILED: " << mode << " returned " << got << ", expected " << expected << std::endl;
    return 1;
  }

  auto warmupEnd = Clock::now() + warmup;
  while (Clock::now() < warmupEnd) runner.run(mode);

  std::vector<int64_t> latencies;
  latencies.reserve(maxCalls);
  auto started = Clock::now();
  auto deadline = started + measure;
  while (latencies.size() < maxCalls && Clock::now() < deadline) {
    auto start = Clock::now();
    runner.run(mode);
    latencies.push_back(mode == "release"
        ? runner.lastDropNanoseconds
        : std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count();

  std::string out = "CALLS " + std::to_string(latencies.size()) + " ELAPSED_NS " + std::to_string(elapsed) + "\nLATENCIES_NS";
  out.reserve(out.size() + latencies.size() * 8);
  for (auto latency : latencies) {
    out += ' ';
    out += std::to_string(latency);
  }
  std::cout << out << std::endl;
  return 0;
}
