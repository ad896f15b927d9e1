using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace RpcGen.Analyzers.CodeFixes;

/// <summary>How to spell <c>Task</c> and <c>ValueTask</c> at a position of a document.</summary>
internal static class TaskNames
{
    private const string TasksNamespace = "System.Threading.Tasks";

    /// <summary>How the task types can be written.</summary>
    public enum Spelling
    {
        /// <summary><c>Task</c>: imported, or importable with a using directive.</summary>
        Simple,

        /// <summary><c>global::System.Threading.Tasks.Task</c>: another type called <c>Task</c> is in scope.</summary>
        Qualified,
    }

    /// <summary>
    /// How to write <c>Task</c> at <paramref name="position"/>; <paramref name="needsUsing"/> says whether a
    /// <c>using System.Threading.Tasks;</c> must be added for the simple name to bind.
    /// </summary>
    public static Spelling Resolve(SemanticModel model, int position, out bool needsUsing)
    {
        var inScope = model.LookupNamespacesAndTypes(position, name: "Task").Concat(model.LookupNamespacesAndTypes(position, name: "ValueTask"));
        var fromTasks = false;
        foreach (var symbol in inScope)
        {
            if (symbol.ContainingNamespace?.ToDisplayString() != TasksNamespace)
            {
                needsUsing = false;
                return Spelling.Qualified;
            }

            fromTasks = true;
        }

        needsUsing = !fromTasks;
        return Spelling.Simple;
    }

    /// <summary><c>Task</c> or <c>global::System.Threading.Tasks.Task</c>.</summary>
    public static NameSyntax Name(Spelling spelling, string name) =>
        spelling == Spelling.Simple
            ? SyntaxFactory.IdentifierName(name)
            : SyntaxFactory.ParseName("global::" + TasksNamespace + "." + name);

    /// <summary><c>Task&lt;T&gt;</c> or <c>global::System.Threading.Tasks.Task&lt;T&gt;</c>.</summary>
    public static NameSyntax Generic(Spelling spelling, string name, TypeSyntax argument)
    {
        var generic = SyntaxFactory.GenericName(SyntaxFactory.Identifier(name), SyntaxFactory.TypeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
        return spelling == Spelling.Simple
            ? generic
            : SyntaxFactory.QualifiedName(SyntaxFactory.ParseName("global::" + TasksNamespace), generic);
    }
}
