namespace RpcGen.Capnp;

/// <summary>
/// Layouts of the <c>rpc.capnp</c> structs as <c>capnp compile -ocapnp /usr/include/capnp/rpc.capnp</c>
/// reports them (a test checks these constants against the compiler). Offsets are in units of each
/// field's size, as <see cref="StructReader"/> and <see cref="StructBuilder"/> take them.
/// </summary>
internal static class RpcSchema
{
    public static class Message
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int Which = 0; // UInt16
        public const int Body = 0;  // pointer, every variant

        public const ushort Unimplemented = 0, Abort = 1, Call = 2, Return = 3, Finish = 4, Resolve = 5, Release = 6,
            ObsoleteSave = 7, Bootstrap = 8, ObsoleteDelete = 9, Provide = 10, Accept = 11, Join = 12, Disembargo = 13;
    }

    public static class Bootstrap
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int QuestionId = 0; // UInt32
    }

    public static class Call
    {
        public const ushort DataWords = 3, Pointers = 3;
        public const int QuestionId = 0;     // UInt32
        public const int Target = 0;         // pointer: MessageTarget
        public const int InterfaceId = 1;    // UInt64
        public const int MethodId = 2;       // UInt16
        public const int Params = 1;         // pointer: Payload
        public const int SendResultsTo = 3;  // UInt16 discriminant
        public const ushort ToCaller = 0, ToYourself = 1, ToThirdParty = 2;
    }

    public static class Return
    {
        public const ushort DataWords = 2, Pointers = 1;
        public const int AnswerId = 0;                // UInt32
        public const int ReleaseParamCaps = 32;       // Bool, default true
        public const int Which = 3;                   // UInt16
        public const int Body = 0;                    // pointer: results (Payload) or exception
        public const int TakeFromOtherQuestion = 2;   // UInt32
        public const ushort Results = 0, Exception = 1, Canceled = 2, ResultsSentElsewhere = 3, TakeFromOther = 4, AcceptFromThirdParty = 5;
    }

    public static class Finish
    {
        public const ushort DataWords = 1, Pointers = 0;
        public const int QuestionId = 0;           // UInt32
        public const int ReleaseResultCaps = 32;   // Bool, default true
    }

    public static class Resolve
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int PromiseId = 0;  // UInt32
        public const int Which = 2;      // UInt16
        public const int Body = 0;       // pointer: cap (CapDescriptor) or exception
        public const ushort Cap = 0, Exception = 1;
    }

    public static class Release
    {
        public const ushort DataWords = 1, Pointers = 0;
        public const int Id = 0;              // UInt32
        public const int ReferenceCount = 1;  // UInt32
    }

    public static class Disembargo
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int Target = 0;     // pointer: MessageTarget
        public const int Which = 2;      // UInt16
        public const int EmbargoId = 0;  // UInt32, senderLoopback / receiverLoopback / provide
        public const ushort SenderLoopback = 0, ReceiverLoopback = 1, Accept = 2, Provide = 3;
    }

    public static class MessageTarget
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int ImportedCap = 0;     // UInt32
        public const int Which = 2;           // UInt16
        public const int PromisedAnswer = 0;  // pointer
        public const ushort IsImportedCap = 0, IsPromisedAnswer = 1;
    }

    public static class Payload
    {
        public const ushort DataWords = 0, Pointers = 2;
        public const int Content = 0;   // pointer: AnyPointer
        public const int CapTable = 1;  // pointer: List(CapDescriptor)
    }

    public static class CapDescriptor
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int Which = 0;       // UInt16
        public const int Id = 1;          // UInt32: senderHosted / senderPromise / receiverHosted
        public const int Pointer = 0;     // receiverAnswer (PromisedAnswer) / thirdPartyHosted
        public const int AttachedFd = 2;  // UInt8, default 0xff
        public const ushort None = 0, SenderHosted = 1, SenderPromise = 2, ReceiverHosted = 3, ReceiverAnswer = 4, ThirdPartyHosted = 5;
    }

    public static class PromisedAnswer
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int QuestionId = 0;  // UInt32
        public const int Transform = 0;   // pointer: List(Op)
    }

    public static class Op
    {
        public const ushort DataWords = 1, Pointers = 0;
        public const int Which = 0;            // UInt16
        public const int GetPointerField = 1;  // UInt16
        public const ushort Noop = 0, IsGetPointerField = 1;
    }

    public static class ThirdPartyCapDescriptor
    {
        public const ushort DataWords = 1, Pointers = 1;
        public const int VineId = 0;  // UInt32
    }

    public static class Exception
    {
        public const ushort DataWords = 1, Pointers = 2;
        public const int Reason = 0;  // pointer: Text
        public const int Type = 2;    // UInt16 enum
        public const int Trace = 1;   // pointer: Text
        public const ushort Failed = 0, Overloaded = 1, Disconnected = 2, Unimplemented = 3;
    }
}
