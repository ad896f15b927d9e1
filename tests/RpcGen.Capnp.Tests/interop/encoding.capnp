@0xc5f1a3b2d4e6f708;
# Test schema for encoding interop: every field kind, defaults, a union, a group, lists.

enum Color {
  red @0;
  green @1;
  blue @2;
}

struct Inner {
  a @0 :UInt32;
  name @1 :Text;
}

struct AllTypes {
  boolField @0 :Bool;
  int8Field @1 :Int8;
  int16Field @2 :Int16;
  int32Field @3 :Int32;
  int64Field @4 :Int64;
  uint8Field @5 :UInt8;
  uint16Field @6 :UInt16;
  uint32Field @7 :UInt32;
  uint64Field @8 :UInt64;
  float32Field @9 :Float32;
  float64Field @10 :Float64;
  textField @11 :Text;
  dataField @12 :Data;
  structField @13 :AllTypes;
  enumField @14 :Color;
  int32List @15 :List(Int32);
  textList @16 :List(Text);
  structList @17 :List(Inner);
  boolList @18 :List(Bool);
  defaulted @19 :Int32 = 42;
  defaultedBool @20 :Bool = true;
  defaultedFloat @21 :Float64 = 1.5;
  shape :union {
    circle @22 :Float64;
    square @23 :Inner;
    empty @24 :Void;
  }
  point :group {
    x @25 :Int32;
    y @26 :Int32;
  }
  int64List @27 :List(Int64);
  nestedList @28 :List(List(Int16));
}
