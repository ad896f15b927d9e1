using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>The types a contract carries by value, found the way the generator's parser finds them.</summary>
internal static class ContractTypes
{
    /// <summary>
    /// The value types a method sends and receives: its parameters (a streamed one as its item type) and
    /// its result (the <c>T</c> of a task, the item of a result stream). Cancellation tokens, byte streams
    /// and services (passed by reference) carry no value.
    /// </summary>
    public static IEnumerable<ITypeSymbol> CarriedBy(IMethodSymbol method)
    {
        foreach (var parameter in method.Parameters)
        {
            if (RpcContractRules.IsCancellationToken(parameter.Type))
            {
                continue;
            }

            switch (RpcContractRules.ClassifyStream(parameter.Type, out var item))
            {
                case StreamShape.Items:
                    yield return item!;
                    break;
                case StreamShape.None:
                    yield return parameter.Type;
                    break;
            }
        }

        if (RpcContractRules.ClassifyResultStream(method.ReturnType, out var resultItem, out _) == StreamShape.Items)
        {
            yield return resultItem!;
        }
        else if (RpcContractRules.ClassifyReturn(method.ReturnType, out var result) is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT &&
                 RpcContractRules.ClassifyStream(result!, out _) == StreamShape.None)
        {
            yield return result!;
        }
    }

    /// <summary>
    /// The types a value of <paramref name="type"/> holds directly: element, key and value types, a DTO's
    /// serialized member types, a known-type base's subtypes (and its own members when it is concrete).
    /// </summary>
    public static IEnumerable<(ITypeSymbol Type, ISymbol? Member)> Children(ITypeSymbol type)
    {
        switch (RpcContractRules.Classify(type, out _))
        {
            case TypeShape.Array:
                return [(((IArrayTypeSymbol)type).ElementType, null)];
            case TypeShape.Nullable or TypeShape.Lazy or TypeShape.List or TypeShape.Dictionary:
                return ((INamedTypeSymbol)type).TypeArguments.Select(t => (t, (ISymbol?)null));
            case TypeShape.Dto:
                return Members((INamedTypeSymbol)type);
            case TypeShape.Polymorphic:
                var named = (INamedTypeSymbol)type;
                var subtypes = KnownTypes.Subtypes(named).Where(s => KnownTypes.DerivesFrom(s, named)).Select(s => ((ITypeSymbol)s, (ISymbol?)null));
                return named.TypeKind == TypeKind.Class && !named.IsAbstract ? subtypes.Concat(Members(named)) : subtypes;
            default:
                return [];
        }
    }

    /// <summary>
    /// Every DTO of the user's own (records, classes and structs outside <c>System</c>, known-type bases
    /// included) that the methods of <paramref name="service"/> carry, directly or nested, in the order first met.
    /// </summary>
    public static IReadOnlyList<INamedTypeSymbol> ReachableDtos(INamedTypeSymbol service, RpcSymbols symbols)
    {
        var visited = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var dtos = new List<INamedTypeSymbol>();
        var pending = new Stack<ITypeSymbol>(symbols.OwnedMethods(service).SelectMany(CarriedBy).Reverse());
        while (pending.Count > 0)
        {
            var type = pending.Pop().WithNullableAnnotation(NullableAnnotation.NotAnnotated);
            if (!visited.Add(type))
            {
                continue;
            }

            if (type is INamedTypeSymbol named && IsUserDto(named))
            {
                dtos.Add(named);
            }

            foreach (var child in Children(type).Reverse())
            {
                pending.Push(child.Type);
            }
        }

        return dtos;
    }

    /// <summary>A class, record or struct of the user's own serialized member by member (a known-type base included).</summary>
    public static bool IsUserDto(INamedTypeSymbol type) =>
        type.TypeKind is TypeKind.Class or TypeKind.Struct &&
        RpcContractRules.Classify(type, out _) is TypeShape.Dto or TypeShape.Polymorphic &&
        !type.IsTupleType &&
        type.ContainingNamespace?.ToDisplayString() is var ns && ns != "System" && ns?.StartsWith("System.", System.StringComparison.Ordinal) != true;

    private static IEnumerable<(ITypeSymbol Type, ISymbol? Member)> Members(INamedTypeSymbol type) =>
        RpcContractRules.SerializedMembers(type).Select(m => (m switch
        {
            IPropertySymbol property => property.Type,
            IFieldSymbol field => field.Type,
            _ => throw new System.ArgumentException("not a member", nameof(type)),
        }, (ISymbol?)m));

    /// <summary>
    /// The shortest way a value of <paramref name="dto"/> can hold another <paramref name="dto"/>, as the
    /// steps from it (a member, a collection element, a known subtype), or null when it cannot.
    /// </summary>
    public static IReadOnlyList<CycleStep>? CyclePath(INamedTypeSymbol dto)
    {
        var start = dto.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
        var cameFrom = new Dictionary<ITypeSymbol, CycleStep>(SymbolEqualityComparer.Default);
        var queue = new Queue<ITypeSymbol>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            var type = queue.Dequeue();
            var shape = RpcContractRules.Classify(type, out _);
            foreach (var (child, member) in Children(type))
            {
                var next = child.WithNullableAnnotation(NullableAnnotation.NotAnnotated);
                var step = new CycleStep(type, next, member, shape);
                if (SymbolEqualityComparer.Default.Equals(next, start))
                {
                    var path = new List<CycleStep> { step };
                    for (var at = type; !SymbolEqualityComparer.Default.Equals(at, start); at = cameFrom[at].From)
                    {
                        path.Insert(0, cameFrom[at]);
                    }

                    return path;
                }

                if (!cameFrom.ContainsKey(next) && !SymbolEqualityComparer.Default.Equals(next, start))
                {
                    cameFrom.Add(next, step);
                    queue.Enqueue(next);
                }
            }
        }

        return null;
    }
}

/// <summary>One step of a <see cref="ContractTypes.CyclePath"/>: from a type to a type it holds.</summary>
internal sealed record CycleStep(ITypeSymbol From, ITypeSymbol To, ISymbol? Member, TypeShape FromShape)
{
    /// <summary>How the step reads in a path: <c>.Member</c>, <c>[]</c> for an element, <c>(Subtype)</c> for a known subtype, nothing for a nullable or lazy value.</summary>
    public string Text => Member is not null ? "." + Member.Name : FromShape switch
    {
        TypeShape.Polymorphic => "(" + To.Name + ")",
        TypeShape.Nullable or TypeShape.Lazy => "",
        _ => "[]",
    };
}
