using System;
using System.Collections.Generic;
using System.Linq;
using RpcGen.Capnp;
using RpcGen.Generators.Model;
using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Emitters.Capnp;

/// <summary>How a C# type is carried in a Cap'n Proto message.</summary>
internal enum CapnpKind
{
    /// <summary>A number or bool in the data section; <see cref="CapnpType.Primitive"/> names the accessor.</summary>
    Primitive,

    /// <summary>An enum: a UInt16 in the data section.</summary>
    Enum,

    /// <summary><c>string</c> as Text.</summary>
    Text,

    /// <summary><c>byte[]</c> as Data.</summary>
    Data,

    /// <summary>An array or list as a List.</summary>
    List,

    /// <summary>A DTO, or a base with known subtypes (a struct whose unnamed union holds the subtypes).</summary>
    Struct,

    /// <summary>An <c>[RpcService]</c> interface as a capability.</summary>
    Interface,
}

/// <summary>A C# type with its Cap'n Proto counterpart.</summary>
/// <param name="Key">The C# type key.</param>
/// <param name="Kind">How it travels.</param>
/// <param name="Field">Its Cap'n Proto type, for layouts and the schema.</param>
/// <param name="Primitive">For primitives: the accessor suffix (<c>Float64</c> for <c>ReadFloat64</c>).</param>
/// <param name="Element">For lists: the element.</param>
/// <param name="Spec">The type's spec.</param>
internal sealed record CapnpType(string Key, CapnpKind Kind, CapnpFieldType Field, string? Primitive, CapnpType? Element, TypeSpec Spec)
{
    public bool IsPointer => Field.IsPointer;

    /// <summary>The list element size for a list of this type.</summary>
    public string ElementSize => Kind switch
    {
        CapnpKind.Primitive => Primitive switch
        {
            "Bool" => "Bit",
            "Int8" or "UInt8" => "Byte",
            "Int16" or "UInt16" => "TwoBytes",
            "Int32" or "UInt32" or "Float32" => "FourBytes",
            _ => "EightBytes",
        },
        CapnpKind.Enum => "TwoBytes",
        CapnpKind.Struct => "InlineComposite",
        _ => "Pointer",
    };
}

/// <summary>A struct to emit a codec and a schema entry for.</summary>
internal sealed record CapnpStruct(CapnpType Type, string Name, StructShape Shape, StructLayout Layout);

/// <summary>
/// The Cap'n Proto view of one service: every reachable type mapped, the struct layouts computed with
/// the schema compiler's algorithm (<see cref="CapnpLayout"/>, linked from the capability transport),
/// and the schema text. <see cref="Rejection"/> says why the service has no Cap'n Proto binding.
/// </summary>
internal sealed class CapnpModel
{
    private static readonly Dictionary<string, (string Primitive, CapnpFieldType Field)> Primitives = new(StringComparer.Ordinal)
    {
        ["bool"] = ("Bool", CapnpFieldType.Bool),
        ["sbyte"] = ("Int8", CapnpFieldType.Int8),
        ["byte"] = ("UInt8", CapnpFieldType.UInt8),
        ["short"] = ("Int16", CapnpFieldType.Int16),
        ["ushort"] = ("UInt16", CapnpFieldType.UInt16),
        ["int"] = ("Int32", CapnpFieldType.Int32),
        ["uint"] = ("UInt32", CapnpFieldType.UInt32),
        ["long"] = ("Int64", CapnpFieldType.Int64),
        ["ulong"] = ("UInt64", CapnpFieldType.UInt64),
        ["float"] = ("Float32", CapnpFieldType.Float32),
        ["double"] = ("Float64", CapnpFieldType.Float64),
    };

    private readonly EmitContext _context;
    private readonly Dictionary<string, CapnpType> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CapnpStruct> _structs = new(StringComparer.Ordinal);
    private readonly List<string> _structOrder = new();
    private readonly Dictionary<string, EnumShape> _enums = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, ulong Id)> _interfaces = new(StringComparer.Ordinal);
    private readonly CapnpNames _names;
    private readonly List<string> _errors = new();

    /// <summary>Maps one service; <paramref name="names"/> is shared when several services go into one schema (the contract export), so every type keeps one name.</summary>
    public CapnpModel(EmitContext context, CapnpNames? names = null)
    {
        _context = context;
        _names = names ?? new CapnpNames();
        var service = context.Service;
        InterfaceName = NameFor(service.InterfaceType, isInterface: true);
        foreach (var method in service.Methods)
        {
            // A method Cap'n Proto cannot carry stays in the interface (its ordinal is taken) and fails
            // every call with Unimplemented and the reason; the others keep their binding.
            var errorsBefore = _errors.Count;
            if (method.RequestStream is not null && method.ResponseStream is not null)
            {
                _errors.Add($"method '{method.Name}' streams both ways, and the Cap'n Proto binding maps a streamed parameter or a streamed result, not both");
            }

            var parameters = new List<(string Name, CapnpFieldType Type)>();
            foreach (var parameter in method.Parameters)
            {
                if (Map(parameter.TypeKey, $"parameter '{parameter.Name.TrimStart('@')}' of '{method.Name}'") is { } type)
                {
                    parameters.Add((FieldName(parameter.Name), type.Field));
                }
            }

            var results = new List<(string Name, CapnpFieldType Type)>();
            if (method.ResponseStream is null && method.ResultKey is { } resultKey && Map(resultKey, $"the result of '{method.Name}'") is { } result)
            {
                results.Add((ResultName(result), result.Field));
            }

            // A streamed result: the caller passes a sink as the last parameter. A streamed parameter: the
            // callee returns a sink, whose end answers with the method's result.
            CapnpSink? resultSink = null, parameterSink = null;
            if (_errors.Count == errorsBefore && method.ResponseStream is { } responseStream)
            {
                var field = UniqueField("sink", parameters);
                resultSink = Sink(method, responseStream, "result", CapnpMethodName(method.Name), field, new List<(string Name, CapnpFieldType Type)>());
                parameters.Add((field, CapnpFieldType.InterfaceNamed(resultSink?.Name ?? string.Empty)));
            }

            if (_errors.Count == errorsBefore && method.RequestStream is { } requestStream)
            {
                var field = FieldName(requestStream.Name);
                parameterSink = Sink(method, requestStream, "parameter", CapnpMethodName(method.Name) + TypeCase(FieldName(requestStream.Name)), field, results);
                results = new List<(string Name, CapnpFieldType Type)> { (field, CapnpFieldType.InterfaceNamed(parameterSink?.Name ?? string.Empty)) };
            }

            if (_errors.Count > errorsBefore)
            {
                var why = string.Join("; ", _errors.Skip(errorsBefore).Distinct());
                var none = new List<(string Name, CapnpFieldType Type)>();
                Methods.Add(new CapnpMethod(method, CapnpLayout.ComputeParameters(none), CapnpLayout.ComputeParameters(none), none, none, why));
                continue;
            }

            Methods.Add(new CapnpMethod(method, CapnpLayout.ComputeParameters(parameters), CapnpLayout.ComputeParameters(results), parameters, results)
            {
                ResultSink = resultSink,
                ParameterSink = parameterSink,
            });
        }

        // Without one method Cap'n Proto can carry there is nothing to bind.
        if (_errors.Count > 0 && Methods.All(m => m.Unmapped is not null))
        {
            Rejection = string.Join("; ", _errors.Distinct());
            return;
        }

        Schema = WriteSchema();
    }

    /// <summary>
    /// The sink a stream travels through: <c>interface {Name}Sink { write @0 (item :T) -&gt; stream; end @1 () -&gt; (endResults); }</c>
    /// (<c>bytes :Data</c> for a <c>Stream</c>), with an id derived from the method's interface id, ordinal and role.
    /// </summary>
    private CapnpSink? Sink(MethodSpec method, StreamSpec stream, string role, string name, string field, List<(string Name, CapnpFieldType Type)> endResults)
    {
        CapnpType? item = null;
        if (!stream.IsBytes && (item = Map(stream.ItemKey, $"the items of '{method.Name}'")) is null)
        {
            return null;
        }

        var sinkName = _names.NameFor($"{method.DeclaringInterface}#{method.MemberName}#{role}", TypeCase(name) + "Sink");
        var id = RpcContractRules.Fnv1a64($"capnp-sink:{method.CapnpInterfaceId:x16}:{method.CapnpOrdinal}:{role}") | (1ul << 63);
        var write = new List<(string Name, CapnpFieldType Type)> { item is null ? ("bytes", CapnpFieldType.Data) : ("item", item.Field) };
        var shape = new InterfaceShape(
            sinkName,
            new List<MethodShape>
            {
                new("write", 0, write, new List<(string Name, CapnpFieldType Type)>(), Streams: true),
                new("end", 1, new List<(string Name, CapnpFieldType Type)>(), endResults),
            },
            id);
        return new CapnpSink(sinkName, id, item, field, CapnpLayout.ComputeParameters(write), CapnpLayout.ComputeParameters(endResults), endResults, shape);
    }

    private static string TypeCase(string name) => char.ToUpperInvariant(name[0]) + name.Substring(1);

    /// <summary><paramref name="name"/>, or with a number when a parameter already has it.</summary>
    private static string UniqueField(string name, List<(string Name, CapnpFieldType Type)> fields)
    {
        var unique = name;
        for (var i = 2; fields.Any(f => f.Name == unique); i++)
        {
            unique = name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return unique;
    }

    /// <summary>The sinks the service's streaming methods use, with the interface that declares each method.</summary>
    public IEnumerable<(string DeclaringInterface, CapnpSink Sink)> Sinks =>
        Methods.SelectMany(m => new[] { m.ResultSink, m.ParameterSink }.Where(s => s is not null).Select(s => (m.Method.DeclaringInterface, s!)));

    /// <summary>The name of the results field of a method whose result type has no name of its own (numbers, text, lists).</summary>
    private const string ResultField = "result";

    /// <summary>
    /// The name of a method's single results field: a struct, enum or interface result is named after its
    /// type, as hand-written schemas name them (<c>-&gt; (value :Value)</c>); anything else is <c>result</c>.
    /// Field names do not travel, so this is for the schema's readers and the code other languages generate.
    /// </summary>
    private static string ResultName(CapnpType result) => result.Kind is CapnpKind.Struct or CapnpKind.Enum or CapnpKind.Interface && result.Field.Name is { Length: > 0 } name
        ? FieldName(name)
        : ResultField;

    public string InterfaceName { get; }

    public List<CapnpMethod> Methods { get; } = new();

    public IEnumerable<CapnpStruct> Structs => _structOrder.Select(k => _structs[k]);

    public IEnumerable<CapnpType> Lists => _types.Values.Where(t => t.Kind == CapnpKind.List).OrderBy(t => t.Spec.Identifier, StringComparer.Ordinal);

    public string? Rejection { get; }

    /// <summary>The methods left off the binding (each fails with <c>Unimplemented</c>), with why; empty when every method is bound.</summary>
    public IEnumerable<CapnpMethod> Unmapped => Methods.Where(m => m.Unmapped is not null);

    public string Schema { get; } = string.Empty;

    public CapnpType TypeOf(string key) => _types[key];

    public CapnpStruct StructOf(string key) => _structs[key];

    public TypeSpec SpecOf(string key) => _context.Type(key);

    /// <summary>The spec of <paramref name="key"/>, or null when the service does not reach that type (an inherited interface it never passes).</summary>
    public TypeSpec? FindSpec(string key) => _context.FindType(key);

    /// <summary>A member or parameter name as a schema field name: camelCase, letters and digits only.</summary>
    public static string FieldName(string name)
    {
        var bare = new string(name.Where(char.IsLetterOrDigit).ToArray());
        return bare.Length == 0 ? "field" : char.ToLowerInvariant(bare[0]) + bare.Substring(1);
    }

    private CapnpType? Map(string key, string where)
    {
        if (_types.TryGetValue(key, out var known))
        {
            return known;
        }

        var spec = _context.Type(key);
        CapnpType? type = null;
        switch (spec.Shape)
        {
            case TypeShape.Builtin when Primitives.TryGetValue(key, out var primitive):
                type = new CapnpType(key, CapnpKind.Primitive, primitive.Field, primitive.Primitive, null, spec);
                break;
            case TypeShape.Builtin when key == "string":
                type = new CapnpType(key, CapnpKind.Text, CapnpFieldType.Text, null, null, spec);
                break;
            case TypeShape.Builtin when key == "byte[]":
                type = new CapnpType(key, CapnpKind.Data, CapnpFieldType.Data, null, null, spec);
                break;
            case TypeShape.Enum when spec.EnumMembers.Count > 0:
                var enumName = NameFor(key, isInterface: false);
                _enums[key] = new EnumShape(enumName, spec.EnumMembers.Select(FieldName).ToList(), TypeId(key));
                type = new CapnpType(key, CapnpKind.Enum, CapnpFieldType.EnumNamed(enumName), "UInt16", null, spec);
                break;
            case TypeShape.Enum:
                _errors.Add($"{where}: enum '{key}' needs the values 0, 1, 2… to be a Cap'n Proto enum");
                break;
            case TypeShape.Array or TypeShape.List when spec.Factory is null:
                if (Map(spec.Arguments[0], where) is { } element)
                {
                    type = new CapnpType(key, CapnpKind.List, CapnpFieldType.ListOf(element.Field), null, element, spec);
                }

                break;
            case TypeShape.Service:
                var interfaceName = key == _context.Service.InterfaceType ? InterfaceName : NameFor(key, isInterface: true);
                _interfaces[key] = (interfaceName, spec.CapnpId);
                type = new CapnpType(key, CapnpKind.Interface, CapnpFieldType.InterfaceNamed(interfaceName), null, null, spec);
                break;
            case TypeShape.Dto or TypeShape.Polymorphic:
                var structName = NameFor(key, isInterface: false);
                type = new CapnpType(key, CapnpKind.Struct, CapnpFieldType.StructNamed(structName), null, null, spec);

                // Registered before its members are mapped, so a recursive type (a list of itself) ends.
                _types[key] = type;
                if (MapStruct(type, structName, where) is { } mapped)
                {
                    _structs[key] = mapped;
                    _structOrder.Add(key);
                }
                else
                {
                    _types.Remove(key);
                    type = null;
                }

                break;
            default:
                _errors.Add($"{where}: '{key}' has no Cap'n Proto type (numbers, bool, string, byte[], enums, arrays and lists, DTOs, [RpcKnownType] bases and [RpcService] interfaces do)");
                break;
        }

        if (type is not null)
        {
            _types[key] = type;
        }

        return type;
    }

    private CapnpStruct? MapStruct(CapnpType type, string name, string where)
    {
        var errors = _errors.Count;
        var members = new List<StructMember>();
        var ordinal = 0;
        var spec = type.Spec;
        if (spec.Shape == TypeShape.Dto)
        {
            foreach (var member in spec.Dto!.Members)
            {
                if (Map(member.TypeKey, $"member '{member.Name.TrimStart('@')}' of '{spec.Key}'") is { } field)
                {
                    members.Add(new FieldShape(FieldName(member.Name), ordinal++, field.Field));
                }
            }
        }
        else
        {
            if (spec.Dto is { Members.Count: > 0 })
            {
                _errors.Add($"{where}: the base '{spec.Key}' has members of its own; as a Cap'n Proto union only its subtypes may have members");
            }

            // Each subtype is a member of the unnamed union, in tag order: no members make a Void
            // field, one a field of its type, more a group.
            var union = new List<StructMember>();
            foreach (var known in spec.KnownTypes.OrderBy(k => k.Tag))
            {
                var subtype = _context.Type(known.TypeKey);
                var memberName = FieldName(SimpleName(known.TypeKey));
                var subMembers = subtype.Dto?.Members ?? EquatableArray<MemberSpec>.Empty;
                var fields = new List<StructMember>();
                foreach (var member in subMembers)
                {
                    if (Map(member.TypeKey, $"member '{member.Name.TrimStart('@')}' of '{known.TypeKey}'") is { } field)
                    {
                        fields.Add(new FieldShape(FieldName(member.Name), ordinal++, field.Field));
                    }
                }

                union.Add(subMembers.Count switch
                {
                    0 => new FieldShape(memberName, ordinal++, CapnpFieldType.Void),
                    1 when fields.Count == 1 => new FieldShape(memberName, ((FieldShape)fields[0]).Ordinal, ((FieldShape)fields[0]).Type),
                    _ => new GroupShape(memberName, fields),
                });
            }

            if (union.Count < 2)
            {
                _errors.Add($"{where}: '{spec.Key}' needs at least two [RpcKnownType] subtypes to be a Cap'n Proto union");
            }

            members.Add(new UnionShape(string.Empty, union));
        }

        if (_errors.Count != errors)
        {
            return null;
        }

        var shape = new StructShape(name, members, TypeId(spec.Key));
        return new CapnpStruct(type, name, shape, CapnpLayout.Compute(shape));
    }

    /// <summary>The enums the service reaches, by C# key.</summary>
    public IReadOnlyDictionary<string, EnumShape> Enums => _enums;

    /// <summary>The services the service passes by reference, by C# key, with their schema names and ids.</summary>
    public IReadOnlyDictionary<string, (string Name, ulong Id)> ReferencedInterfaces => _interfaces;

    /// <summary>
    /// The interfaces the service's methods belong to, by id: the service's own and those of the
    /// <c>[RpcService]</c> interfaces it inherits methods from, each named after its declaring interface.
    /// </summary>
    public IEnumerable<(string Key, InterfaceShape Shape)> InterfaceShapes(bool nameBasesByDeclaration)
    {
        var service = _context.Service;
        var count = 0;
        foreach (var group in Methods.GroupBy(m => m.Method.CapnpInterfaceId))
        {
            var key = group.Key == service.CapnpId ? service.InterfaceType : group.First().Method.DeclaringInterface;
            var name = group.Key == service.CapnpId
                ? InterfaceName
                : nameBasesByDeclaration ? _names.NameFor(key, isInterface: true) : InterfaceName + "Base" + count;
            count++;

            // Child and ChildAsync would both be "child": the second keeps its suffix.
            var methodNames = new HashSet<string>(StringComparer.Ordinal);
            yield return (key, new InterfaceShape(
                name,
                group.Select(m => new MethodShape(
                    CapnpMethodName(m.Method.Name) is var shortName && methodNames.Add(shortName) ? shortName : FieldName(m.Method.Name),
                    m.Method.CapnpOrdinal,
                    m.Parameters,
                    m.Results)).ToList(),
                group.Key));
        }
    }

    private string WriteSchema()
    {
        var service = _context.Service;
        var interfaces = InterfaceShapes(nameBasesByDeclaration: false).Select(i => i.Shape).ToList();

        // Services this one passes by reference: their methods live in their own schemas, so here
        // they are declared with their ids only; capability pointers do not depend on them.
        foreach (var reference in _interfaces.Where(i => i.Key != service.InterfaceType))
        {
            interfaces.Add(new InterfaceShape(reference.Value.Name, new List<MethodShape>(), reference.Value.Id));
        }

        interfaces.AddRange(Sinks.Select(s => s.Sink.Shape));

        var fileId = RpcContractRules.Fnv1a64("capnp-file:" + service.ServiceName) | (1ul << 63);
        return CapnpSchemaWriter.Write(fileId, Structs.Select(s => s.Shape), _enums.Values, interfaces);
    }

    private static string CapnpMethodName(string name)
    {
        var bare = name.TrimStart('@');
        if (bare.Length > 5 && bare.EndsWith("Async", StringComparison.Ordinal))
        {
            bare = bare.Substring(0, bare.Length - 5);
        }

        return FieldName(bare);
    }

    private ulong TypeId(string key) => _context.Type(key).CapnpId is var pinned and not 0
        ? pinned
        : RpcContractRules.Fnv1a64("capnp-type:" + key) | (1ul << 63);

    /// <summary><c>global::Acme.IGreeter</c> and <c>global::IGreeter</c> are both <c>IGreeter</c>.</summary>
    internal static string SimpleName(string key)
    {
        var head = key.Split('<')[0];
        if (head.StartsWith("global::", StringComparison.Ordinal))
        {
            head = head.Substring("global::".Length);
        }

        return head.Substring(head.LastIndexOf('.') + 1);
    }

    private string NameFor(string key, bool isInterface) => _names.NameFor(key, isInterface);
}

/// <summary>One method with its parameter and result layouts.</summary>
/// <param name="Unmapped">Why Cap'n Proto cannot carry the method, or null: then the schema declares it as <c>() -> ()</c>
/// (its ordinal stays taken) and every call fails with <c>Unimplemented</c> and this reason.</param>
internal sealed record CapnpMethod(
    MethodSpec Method,
    StructLayout ParamsLayout,
    StructLayout ResultsLayout,
    IReadOnlyList<(string Name, CapnpFieldType Type)> Parameters,
    IReadOnlyList<(string Name, CapnpFieldType Type)> Results,
    string? Unmapped = null)
{
    /// <summary>For a streamed result: the sink the caller passes as the last parameter.</summary>
    public CapnpSink? ResultSink { get; init; }

    /// <summary>For a streamed parameter: the sink the call returns as its one result; its <c>end</c> answers with the method's result.</summary>
    public CapnpSink? ParameterSink { get; init; }

    /// <summary>The method's parameters (the streamed one is not among them), with their field layouts.</summary>
    public IEnumerable<(ParameterSpec Parameter, FieldLayout Field)> ParameterFields =>
        Method.Parameters.Select((p, i) => (p, ParamsLayout.Fields[Parameters[i].Name]));

    /// <summary>The layout of the single results field (the method has a result).</summary>
    public FieldLayout ResultFieldLayout => ResultsLayout.Fields[Results[0].Name];

    /// <summary>What a call of an unmapped method fails with.</summary>
    public string UnimplementedMessage(string service) =>
        $"'{Method.Name.TrimStart('@')}' is not on the Cap'n Proto binding of '{service}': {Unmapped}; call it over the message transport";
}

/// <summary>A stream's sink interface.</summary>
/// <param name="Name">Its schema name.</param>
/// <param name="Id">Its interface id.</param>
/// <param name="Item">The item type, or null for bytes (<c>bytes :Data</c>).</param>
/// <param name="Field">The params (streamed result) or results (streamed parameter) field of the call that carries it.</param>
/// <param name="WriteLayout">The layout of <c>write</c>'s parameters.</param>
/// <param name="EndLayout">The layout of <c>end</c>'s results.</param>
/// <param name="EndResults">The fields of <c>end</c>'s results (for a streamed parameter, the method's result).</param>
/// <param name="Shape">Its schema declaration.</param>
internal sealed record CapnpSink(
    string Name,
    ulong Id,
    CapnpType? Item,
    string Field,
    StructLayout WriteLayout,
    StructLayout EndLayout,
    IReadOnlyList<(string Name, CapnpFieldType Type)> EndResults,
    InterfaceShape Shape)
{
    /// <summary>The layout of the item field of <c>write</c>'s parameters.</summary>
    public FieldLayout ItemLayout => WriteLayout.Fields[Item is null ? "bytes" : "item"];
}
