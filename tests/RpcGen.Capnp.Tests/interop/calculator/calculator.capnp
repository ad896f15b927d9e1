@0x85150b117366d14b;
# The Calculator protocol of Cap'n Proto's C++ samples, declared here with the same ids and field
# layout so our peers speak exactly the same wire protocol as the reference sample programs.

interface Calculator @0x97983392df35cc36 {
  evaluate @0 (expression :Expression) -> (value :Value);
  defFunction @1 (paramCount :Int32, body :Expression) -> (func :Function);
  getOperator @2 (op :Operator) -> (func :Function);

  struct Expression @0xd438d7caf5548d15 {
    union {
      literal @0 :Float64;
      previousResult @1 :Value;
      parameter @2 :UInt32;
      call :group {
        function @3 :Function;
        params @4 :List(Expression);
      }
    }
  }

  interface Value @0xc3e69d34d3ee48d2 {
    read @0 () -> (value :Float64);
  }

  interface Function @0xede83a3d96840394 {
    call @0 (params :List(Float64)) -> (value :Float64);
  }

  enum Operator @0x8793407861e6dfe6 {
    add @0;
    subtract @1;
    multiply @2;
    divide @3;
  }
}
