// Interop peer: a Calculator server (calculator.capnp) on the C++ reference implementation.
// Usage: calculator-server <bind address>   e.g. "127.0.0.1:0" or "unix:/tmp/calc.sock"
// Prints "Listening on port N..." (or "Listening on Unix socket...") and serves until stdin
// closes or two minutes pass.

#include "calculator.capnp.h"
#include <capnp/ez-rpc.h>
#include <capnp/message.h>
#include <kj/async-io.h>
#include <kj/debug.h>
#include <iostream>

namespace {

using Expression = Calculator::Expression;

class ConstantValue final: public Calculator::Value::Server {
public:
  explicit ConstantValue(double value): value(value) {}

  kj::Promise<void> read(ReadContext context) override {
    context.getResults().setValue(value);
    return kj::READY_NOW;
  }

private:
  double value;
};

kj::Promise<double> callFunction(Calculator::Function::Client function, kj::Array<double> arguments) {
  auto request = function.callRequest();
  auto list = request.initParams(arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i) list.set(i, arguments[i]);
  return request.send().then([](capnp::Response<Calculator::Function::CallResults>&& response) {
    return response.getValue();
  });
}

// Evaluates an expression; `arguments` are the values of `parameter` leaves (inside a function body).
kj::Promise<double> evaluate(Expression::Reader expression, kj::ArrayPtr<const double> arguments) {
  switch (expression.which()) {
    case Expression::LITERAL:
      return expression.getLiteral();

    case Expression::PREVIOUS_RESULT:
      return expression.getPreviousResult().readRequest().send()
          .then([](capnp::Response<Calculator::Value::ReadResults>&& response) { return response.getValue(); });

    case Expression::PARAMETER: {
      auto index = expression.getParameter();
      KJ_REQUIRE(index < arguments.size(), "parameter index out of range", index);
      return arguments[index];
    }

    case Expression::CALL: {
      auto call = expression.getCall();
      auto params = call.getParams();
      auto pending = kj::heapArrayBuilder<kj::Promise<double>>(params.size());
      for (auto param: params) pending.add(evaluate(param, arguments));
      Calculator::Function::Client function = call.getFunction();
      return kj::joinPromises(pending.finish())
          .then([function](kj::Array<double>&& values) mutable { return callFunction(function, kj::mv(values)); });
    }
  }
  KJ_FAIL_REQUIRE("unknown expression kind");
}

class DefinedFunction final: public Calculator::Function::Server {
public:
  DefinedFunction(int32_t paramCount, Expression::Reader body): paramCount(paramCount) {
    message.setRoot(body);
  }

  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == static_cast<uint>(paramCount), "wrong number of parameters");
    auto arguments = kj::heapArray<double>(params.size());
    for (uint i = 0; i < params.size(); ++i) arguments[i] = params[i];
    auto result = evaluate(message.getRoot<Expression>().asReader(), arguments);
    return result.attach(kj::mv(arguments)).then([context](double value) mutable {
      context.getResults().setValue(value);
    });
  }

private:
  int32_t paramCount;
  capnp::MallocMessageBuilder message;
};

class ArithmeticFunction final: public Calculator::Function::Server {
public:
  explicit ArithmeticFunction(Calculator::Operator op): op(op) {}

  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == 2, "an operator takes two parameters");
    double a = params[0], b = params[1], result = 0;
    switch (op) {
      case Calculator::Operator::ADD: result = a + b; break;
      case Calculator::Operator::SUBTRACT: result = a - b; break;
      case Calculator::Operator::MULTIPLY: result = a * b; break;
      case Calculator::Operator::DIVIDE: result = a / b; break;
    }
    context.getResults().setValue(result);
    return kj::READY_NOW;
  }

private:
  Calculator::Operator op;
};

class CalculatorServer final: public Calculator::Server {
public:
  kj::Promise<void> evaluate(EvaluateContext context) override {
    return ::evaluate(context.getParams().getExpression(), nullptr).then([context](double value) mutable {
      context.getResults().setValue(kj::heap<ConstantValue>(value));
    });
  }

  kj::Promise<void> defFunction(DefFunctionContext context) override {
    auto params = context.getParams();
    context.getResults().setFunc(kj::heap<DefinedFunction>(params.getParamCount(), params.getBody()));
    return kj::READY_NOW;
  }

  kj::Promise<void> getOperator(GetOperatorContext context) override {
    context.getResults().setFunc(kj::heap<ArithmeticFunction>(context.getParams().getOp()));
    return kj::READY_NOW;
  }
};

kj::Promise<void> readUntilEof(kj::AsyncInputStream& input, kj::ArrayPtr<char> buffer) {
  return input.tryRead(buffer.begin(), 1, buffer.size()).then([&input, buffer](size_t n) -> kj::Promise<void> {
    if (n == 0) return kj::READY_NOW;
    return readUntilEof(input, buffer);
  });
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ADDRESS" << std::endl;
    return 2;
  }

  capnp::EzRpcServer server(kj::heap<CalculatorServer>(), argv[1]);
  auto& waitScope = server.getWaitScope();
  uint port = server.getPort().wait(waitScope);
  if (port == 0) {
    std::cout << "Listening on Unix socket..." << std::endl;
  } else {
    std::cout << "Listening on port " << port << "..." << std::endl;
  }

  auto input = server.getLowLevelIoProvider().wrapInputFd(0);
  char buffer[256];
  readUntilEof(*input, kj::arrayPtr(buffer, sizeof(buffer)))
      .exclusiveJoin(server.getIoProvider().getTimer().afterDelay(120 * kj::SECONDS))
      .wait(waitScope);
  return 0;
}
