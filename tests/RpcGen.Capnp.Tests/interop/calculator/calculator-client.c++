// Interop peer: a Calculator client (calculator.capnp) on the C++ reference implementation.
// Usage: calculator-client <server address>
// Prints one "<step>... PASS" line per step; exits 1 at the first failure.

#include "calculator.capnp.h"
#include <capnp/ez-rpc.h>
#include <kj/debug.h>
#include <cmath>
#include <iostream>

namespace {

using Expression = Calculator::Expression;

// A function implemented here and called back by the server: x raised to the power y.
class Power final: public Calculator::Function::Server {
public:
  kj::Promise<void> call(CallContext context) override {
    auto params = context.getParams().getParams();
    KJ_REQUIRE(params.size() == 2, "power takes two parameters");
    context.getResults().setValue(std::pow(params[0], params[1]));
    return kj::READY_NOW;
  }
};

void step(const char* name) {
  std::cout << name << "... ";
  std::cout.flush();
}

void pass() { std::cout << "PASS" << std::endl; }

void setCall(Expression::Builder expression, Calculator::Function::Client function, std::initializer_list<double> literals) {
  auto call = expression.initCall();
  call.setFunction(function);
  auto params = call.initParams(literals.size());
  uint i = 0;
  for (double literal: literals) params[i++].setLiteral(literal);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " ADDRESS" << std::endl;
    return 2;
  }

  capnp::EzRpcClient client(argv[1]);
  auto& waitScope = client.getWaitScope();
  Calculator::Client calculator = client.getMain<Calculator>();

  auto failure = kj::runCatchingExceptions([&]() {
    {
      step("Evaluating a literal");
      auto request = calculator.evaluateRequest();
      request.initExpression().setLiteral(123);
      auto value = request.send().getValue();
      KJ_REQUIRE(value.readRequest().send().wait(waitScope).getValue() == 123);
      pass();
    }

    Calculator::Function::Client add = nullptr;
    Calculator::Function::Client multiply = nullptr;
    {
      step("Using add and subtract");
      auto addRequest = calculator.getOperatorRequest();
      addRequest.setOp(Calculator::Operator::ADD);
      add = addRequest.send().getFunc();
      auto subtractRequest = calculator.getOperatorRequest();
      subtractRequest.setOp(Calculator::Operator::SUBTRACT);
      auto subtract = subtractRequest.send().getFunc();

      // 123 + 45 - 67
      auto request = calculator.evaluateRequest();
      auto call = request.initExpression().initCall();
      call.setFunction(subtract);
      auto params = call.initParams(2);
      setCall(params[0], add, {123, 45});
      params[1].setLiteral(67);
      KJ_REQUIRE(request.send().getValue().readRequest().send().wait(waitScope).getValue() == 101);
      pass();
    }

    {
      step("Pipelining eval() calls");
      auto multiplyRequest = calculator.getOperatorRequest();
      multiplyRequest.setOp(Calculator::Operator::MULTIPLY);
      multiply = multiplyRequest.send().getFunc();

      // (4 * 6) then + 3, without waiting for the first value.
      auto first = calculator.evaluateRequest();
      setCall(first.initExpression(), multiply, {4, 6});
      auto product = first.send().getValue();
      auto second = calculator.evaluateRequest();
      auto call = second.initExpression().initCall();
      call.setFunction(add);
      auto params = call.initParams(2);
      params[0].setPreviousResult(product);
      params[1].setLiteral(3);
      KJ_REQUIRE(second.send().getValue().readRequest().send().wait(waitScope).getValue() == 27);
      pass();
    }

    {
      step("Defining functions");
      // f(x, y) = x * (y + 100)
      auto defineF = calculator.defFunctionRequest();
      defineF.setParamCount(2);
      {
        auto call = defineF.initBody().initCall();
        call.setFunction(multiply);
        auto params = call.initParams(2);
        params[0].setParameter(0);
        auto inner = params[1].initCall();
        inner.setFunction(add);
        auto innerParams = inner.initParams(2);
        innerParams[0].setParameter(1);
        innerParams[1].setLiteral(100);
      }
      auto f = defineF.send().getFunc();

      // g(x) = f(x, x * 2)
      auto defineG = calculator.defFunctionRequest();
      defineG.setParamCount(1);
      {
        auto call = defineG.initBody().initCall();
        call.setFunction(f);
        auto params = call.initParams(2);
        params[0].setParameter(0);
        auto doubled = params[1].initCall();
        doubled.setFunction(multiply);
        auto doubledParams = doubled.initParams(2);
        doubledParams[0].setParameter(0);
        doubledParams[1].setLiteral(2);
      }
      auto g = defineG.send().getFunc();

      auto evalF = calculator.evaluateRequest();
      setCall(evalF.initExpression(), f, {12, 34});
      auto fValue = evalF.send().getValue().readRequest().send();
      auto evalG = calculator.evaluateRequest();
      setCall(evalG.initExpression(), g, {21});
      auto gValue = evalG.send().getValue().readRequest().send();
      KJ_REQUIRE(fValue.wait(waitScope).getValue() == 1608);
      KJ_REQUIRE(gValue.wait(waitScope).getValue() == 2982);
      pass();
    }

    {
      step("Using a callback");
      // 2 ^ (4 + 5), where ^ runs here.
      Calculator::Function::Client power = kj::heap<Power>();
      auto request = calculator.evaluateRequest();
      auto call = request.initExpression().initCall();
      call.setFunction(power);
      auto params = call.initParams(2);
      params[0].setLiteral(2);
      setCall(params[1], add, {4, 5});
      KJ_REQUIRE(request.send().getValue().readRequest().send().wait(waitScope).getValue() == 512);
      pass();
    }
  });

  KJ_IF_MAYBE(e, failure) {
    std::cout << "FAIL: " << kj::str(*e).cStr() << std::endl;
    return 1;
  }
  return 0;
}
