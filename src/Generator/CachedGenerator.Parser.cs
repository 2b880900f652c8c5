using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedCache.Generator.Diagnostics;
using TypedCache.Generator.Helpers;
using TypedCache.Generator.Model;

namespace TypedCache.Generator;

public sealed partial class CachedGenerator
{
    /// <summary>Turns symbols into models; the only place that touches <see cref="ISymbol"/>.</summary>
    internal sealed class Parser
    {
        private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
            .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

        private readonly List<DiagnosticInfo> _diagnostics = [];
        private readonly List<TypeSpec?> _types = [];
        private readonly Dictionary<string, int> _typeIds = new(StringComparer.Ordinal);

        public static ParseResult ParseCachedType(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var symbol = (INamedTypeSymbol)context.TargetSymbol;
            if (!IsFirstCachedAttribute(symbol, context.Attributes[0]))
            {
                return ParseResult.Skipped;
            }

            var parser = new Parser();
            var node = (TypeDeclarationSyntax)context.TargetNode;
            var spec = parser.Parse(symbol, node, context.Attributes[0], cancellationToken);
            var repo = spec is null
                ? null
                : new RepoDeclaration(
                    new RepoRef(spec.Namespace, spec.RepoName, spec.TypeName, spec.CacheName),
                    LocationInfo.From(node.Identifier.GetLocation()));
            return new ParseResult(spec, repo, new EquatableArray<DiagnosticInfo>(parser._diagnostics));
        }

        /// <summary>
        /// Whether <paramref name="attribute"/> is the type's first <c>[Cached]</c>: the pipeline yields once per
        /// partial declaration carrying it, and only the first may emit, or the generated files' names would clash.
        /// </summary>
        private static bool IsFirstCachedAttribute(INamedTypeSymbol symbol, AttributeData attribute)
        {
            var first = symbol.GetAttributes()
                .FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == TypeNames.CachedAttribute)
                ?.ApplicationSyntaxReference;
            var mine = attribute.ApplicationSyntaxReference;
            return first is null || mine is null || (first.SyntaxTree == mine.SyntaxTree && first.Span == mine.Span);
        }

        public static ContextPropertySpec? ParseContextProperty(GeneratorSyntaxContext context, CancellationToken cancellationToken)
        {
            var node = (PropertyDeclarationSyntax)context.Node;
            if (context.SemanticModel.GetDeclaredSymbol(node, cancellationToken) is not IPropertySymbol property
                || !property.IsPartialDefinition
                || property.PartialImplementationPart is not null
                || !DerivesFromCacheContext(property.ContainingType))
            {
                return null;
            }

            var declarations = new List<string>();
            for (var type = property.ContainingType; type is not null; type = type.ContainingType)
            {
                declarations.Insert(0, "partial " + (type.IsRecord ? "record" : "class") + " " + type.Name);
            }

            var repoType = node.Type.ToString();
            if (repoType.StartsWith("global::", StringComparison.Ordinal))
            {
                repoType = repoType.Substring("global::".Length);
            }

            return new ContextPropertySpec(
                property.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                NamespaceOf(property.ContainingType),
                new EquatableArray<string>(declarations),
                property.Name,
                node.Modifiers.ToString(),
                repoType,
                property.Type.TypeKind != TypeKind.Error,
                property.SetMethod is null && property.GetMethod is not null,
                LocationInfo.From(node.Identifier.GetLocation()));
        }

        private static bool DerivesFromCacheContext(INamedTypeSymbol type)
        {
            for (var current = type.BaseType; current is not null; current = current.BaseType)
            {
                if (current.ToDisplayString() == TypeNames.CacheContext)
                {
                    return true;
                }
            }

            return false;
        }

        private static string NamespaceOf(INamedTypeSymbol type) =>
            type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString();

        private static bool IsValidName(string? name)
        {
            if (name is null || name.Length is 0 or > 64)
            {
                return false;
            }

            foreach (var c in name)
            {
                if (!(c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.'))
                {
                    return false;
                }
            }

            return true;
        }

        private CachedTypeSpec? Parse(INamedTypeSymbol symbol, TypeDeclarationSyntax node, AttributeData attribute, CancellationToken cancellationToken)
        {
            var display = symbol.ToDisplayString();
            var location = node.Identifier.GetLocation();
            var before = _diagnostics.Count;

            if (!node.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                Report(DiagnosticDescriptors.TypeNotPartial, location, display);
            }

            if (symbol.IsValueType)
            {
                Report(DiagnosticDescriptors.TypeNotClass, location, display);
            }

            var isPublic = true;
            for (var type = symbol; type is not null; type = type.ContainingType)
            {
                if (type.IsGenericType)
                {
                    Report(DiagnosticDescriptors.GenericType, location, display);
                    break;
                }

                if (type.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
                {
                    Report(DiagnosticDescriptors.TypeNotAccessible, location, display);
                    break;
                }

                isPublic &= type.DeclaredAccessibility == Accessibility.Public;
            }

            int ttl = 300, localTtl = 0;
            string? name = null;
            var tags = new List<string>();
            foreach (var argument in attribute.NamedArguments)
            {
                switch (argument.Key)
                {
                    case "TtlSeconds" when argument.Value.Value is int value:
                        ttl = value;
                        break;
                    case "LocalTtlSeconds" when argument.Value.Value is int value:
                        localTtl = value;
                        break;
                    case "Name":
                        name = argument.Value.Value as string;
                        break;
                    case "Tags" when !argument.Value.IsNull:
                        tags.AddRange(argument.Value.Values.Select(static v => v.Value as string ?? string.Empty));
                        break;
                }
            }

            if (ttl <= 0)
            {
                Report(DiagnosticDescriptors.NonPositiveTtl, location, display, "TtlSeconds", ttl.ToString(CultureInfo.InvariantCulture));
            }

            if (localTtl < 0)
            {
                Report(DiagnosticDescriptors.NonPositiveTtl, location, display, "LocalTtlSeconds", localTtl.ToString(CultureInfo.InvariantCulture));
            }

            foreach (var tag in tags.Where(static t => !IsValidName(t)))
            {
                Report(DiagnosticDescriptors.InvalidTag, location, display, tag);
            }

            var cacheName = name ?? symbol.Name;
            if (!IsValidName(cacheName))
            {
                Report(DiagnosticDescriptors.InvalidCacheName, location, display, cacheName);
            }

            var keyParts = ParseKey(symbol, display, location);
            cancellationToken.ThrowIfCancellationRequested();
            if (_diagnostics.Count > before)
            {
                return null;
            }

            AddType(symbol, display, location);
            if (_diagnostics.Count > before)
            {
                return null;
            }

            var types = _types.Select(static t => t!).ToArray();
            return new CachedTypeSpec(
                NamespaceOf(symbol),
                types[0].Name,
                symbol.Name,
                SanitizeHintName(symbol.ToDisplayString()),
                isPublic ? "public" : "internal",
                cacheName,
                ttl,
                localTtl == 0 ? ttl : localTtl,
                new EquatableArray<string>(tags.Distinct(StringComparer.Ordinal)),
                SchemaHash(types),
                new EquatableArray<KeyPartSpec>(keyParts),
                new EquatableArray<TypeSpec>(types));
        }

        private List<KeyPartSpec> ParseKey(INamedTypeSymbol symbol, string display, Location location)
        {
            var parts = new List<(int Order, ISymbol Member, ITypeSymbol Type)>();
            foreach (var member in AllMembers(symbol))
            {
                var key = member.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == TypeNames.CacheKeyAttribute);
                if (key is null)
                {
                    continue;
                }

                var order = key.NamedArguments.Where(static a => a.Key == "Order").Select(static a => a.Value.Value).OfType<int>().FirstOrDefault();
                var type = member is IPropertySymbol p ? p.Type : ((IFieldSymbol)member).Type;
                parts.Add((order, member, type));
            }

            if (parts.Count == 0)
            {
                Report(DiagnosticDescriptors.NoCacheKey, location, display);
                return [];
            }

            var sorted = parts.OrderBy(static p => p.Order).ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].Order == sorted[i - 1].Order)
                {
                    Report(
                        DiagnosticDescriptors.DuplicateKeyOrder,
                        sorted[i].Member.Locations.FirstOrDefault() ?? location,
                        sorted[i - 1].Member.Name,
                        sorted[i].Member.Name,
                        display,
                        sorted[i].Order.ToString(CultureInfo.InvariantCulture));
                }
            }

            var result = new List<KeyPartSpec>();
            var parameterNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (_, member, type) in sorted)
            {
                var kind = KeyKind(type);
                if (kind is null)
                {
                    Report(
                        DiagnosticDescriptors.UnsupportedKeyType,
                        member.Locations.FirstOrDefault() ?? location,
                        member.Name,
                        display,
                        type.ToDisplayString());
                    continue;
                }

                result.Add(new KeyPartSpec(
                    member.Name,
                    UniqueParameterName(member.Name, parameterNames),
                    type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat),
                    type.SpecialType == SpecialType.System_String,
                    kind.Value));
            }

            return result;
        }

        private static KeyWriteKind? KeyKind(ITypeSymbol type)
        {
            if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
            {
                type = underlying;
            }

            switch (type.SpecialType)
            {
                case SpecialType.System_String:
                case SpecialType.System_Boolean:
                case SpecialType.System_Char:
                case SpecialType.System_DateTime:
                    return KeyWriteKind.Direct;
                case SpecialType.System_SByte:
                case SpecialType.System_Int16:
                case SpecialType.System_Int32:
                case SpecialType.System_Int64:
                    return KeyWriteKind.Signed;
                case SpecialType.System_Byte:
                case SpecialType.System_UInt16:
                case SpecialType.System_UInt32:
                case SpecialType.System_UInt64:
                    return KeyWriteKind.Unsigned;
            }

            return MetadataName(type) is "System.Guid" or "System.DateTimeOffset" or "System.TimeSpan"
                ? KeyWriteKind.Direct
                : null;
        }

        /// <summary>
        /// The camel-cased parameter name for a key part, numbered when an earlier part took it already: members
        /// <c>Id</c> and <c>id</c> become parameters <c>id</c> and <c>id2</c>.
        /// </summary>
        private static string UniqueParameterName(string memberName, HashSet<string> taken)
        {
            var stem = char.ToLowerInvariant(memberName[0]) + memberName.Substring(1);
            if (stem is "cancellationToken" or "loader" or "timeout")
            {
                stem += "Part";
            }

            var name = stem;
            for (var suffix = 2; !taken.Add(name); suffix++)
            {
                name = stem + suffix.ToString(CultureInfo.InvariantCulture);
            }

            return SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
                ? "@" + name
                : name;
        }

        private static string MetadataName(ITypeSymbol type) =>
            type.ContainingNamespace is null || type.ContainingNamespace.IsGlobalNamespace
                ? type.MetadataName
                : type.ContainingNamespace.ToDisplayString() + "." + type.MetadataName;

        /// <summary>Public instance properties and fields, base type first; an override keeps its base's place.</summary>
        private static IEnumerable<ISymbol> AllMembers(INamedTypeSymbol type)
        {
            var chain = new List<INamedTypeSymbol>();
            for (var current = type; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
            {
                chain.Insert(0, current);
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var declaring in chain)
            {
                foreach (var member in declaring.GetMembers())
                {
                    var include = member switch
                    {
                        IPropertySymbol p => !p.IsStatic && !p.IsIndexer && p.DeclaredAccessibility == Accessibility.Public
                            && p.GetMethod is { DeclaredAccessibility: Accessibility.Public },
                        IFieldSymbol f => !f.IsStatic && !f.IsConst && !f.IsImplicitlyDeclared && f.DeclaredAccessibility == Accessibility.Public,
                        _ => false,
                    };
                    if (include && seen.Add(member.Name))
                    {
                        yield return member;
                    }
                }
            }
        }

        private int AddType(ITypeSymbol type, string owner, Location location, string? memberName = null)
        {
            var normalized = type.IsReferenceType ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated) : type;
            var name = normalized.ToDisplayString(TypeFormat);
            if (_typeIds.TryGetValue(name, out var existing))
            {
                return existing;
            }

            var id = _types.Count;
            _typeIds[name] = id;
            _types.Add(null);
            var kind = Classify(type, out var element, out var key, out var underlying);
            if (kind is null)
            {
                Report(DiagnosticDescriptors.UnsupportedMemberType, location, memberName ?? name, owner, type.ToDisplayString());
                return id;
            }

            var elementId = element is null ? -1 : AddType(element, owner, location, memberName);
            var keyId = key is null ? -1 : AddType(key, owner, location, memberName);
            var members = EquatableArray<MemberSpec>.Empty;
            var constructorMembers = EquatableArray<int>.Empty;
            if (kind == ValueKind.Object)
            {
                (members, constructorMembers) = ParseObject((INamedTypeSymbol)type, location);
            }

            _types[id] = new TypeSpec(id, kind.Value, name, type.IsValueType, elementId, keyId, underlying ?? string.Empty, members, constructorMembers);
            return id;
        }

        private (EquatableArray<MemberSpec> Members, EquatableArray<int> Constructor) ParseObject(INamedTypeSymbol type, Location location)
        {
            var display = type.ToDisplayString();
            var candidates = new List<(ISymbol Member, ITypeSymbol Type, bool Settable)>();
            foreach (var member in AllMembers(type))
            {
                if (member.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == TypeNames.CacheIgnoreAttribute))
                {
                    continue;
                }

                candidates.Add(member switch
                {
                    IPropertySymbol p => (member, p.Type, p.SetMethod is { DeclaredAccessibility: Accessibility.Public or Accessibility.Internal }),
                    _ => (member, ((IFieldSymbol)member).Type, !((IFieldSymbol)member).IsReadOnly),
                });
            }

            IMethodSymbol? constructor = null;
            int[]? bestMapping = null;
            foreach (var candidate in type.InstanceConstructors)
            {
                if (candidate.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
                    || (candidate.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(candidate.Parameters[0].Type, type)))
                {
                    continue;
                }

                var mapping = new int[candidate.Parameters.Length];
                var matches = true;
                for (var i = 0; i < mapping.Length && matches; i++)
                {
                    var parameter = candidate.Parameters[i];
                    mapping[i] = candidates.FindIndex(c =>
                        string.Equals(c.Member.Name, parameter.Name, StringComparison.OrdinalIgnoreCase)
                        && SymbolEqualityComparer.Default.Equals(c.Type, parameter.Type));
                    matches = mapping[i] >= 0;
                }

                if (matches && (bestMapping is null || mapping.Length > bestMapping.Length))
                {
                    constructor = candidate;
                    bestMapping = mapping;
                }
            }

            if (constructor is null || bestMapping is null || type.IsAbstract)
            {
                Report(DiagnosticDescriptors.NoUsableConstructor, location, display);
                return (EquatableArray<MemberSpec>.Empty, EquatableArray<int>.Empty);
            }

            var members = new List<MemberSpec>();
            var memberIndex = new Dictionary<int, int>();
            for (var i = 0; i < candidates.Count; i++)
            {
                var inConstructor = Array.IndexOf(bestMapping, i) >= 0;
                if (!inConstructor && !candidates[i].Settable)
                {
                    continue;
                }

                memberIndex[i] = members.Count;
                var typeId = AddType(candidates[i].Type, display, candidates[i].Member.Locations.FirstOrDefault() ?? location, candidates[i].Member.Name);
                members.Add(new MemberSpec(candidates[i].Member.Name, typeId, inConstructor));
            }

            return (new EquatableArray<MemberSpec>(members), new EquatableArray<int>(bestMapping.Select(m => memberIndex[m])));
        }

        private static ValueKind? Classify(ITypeSymbol type, out ITypeSymbol? element, out ITypeSymbol? key, out string? underlying)
        {
            element = null;
            key = null;
            underlying = null;
            switch (type.SpecialType)
            {
                case SpecialType.System_Boolean: return ValueKind.Boolean;
                case SpecialType.System_Byte: return ValueKind.Byte;
                case SpecialType.System_SByte: return ValueKind.SByte;
                case SpecialType.System_Int16: return ValueKind.Int16;
                case SpecialType.System_UInt16: return ValueKind.UInt16;
                case SpecialType.System_Int32: return ValueKind.Int32;
                case SpecialType.System_UInt32: return ValueKind.UInt32;
                case SpecialType.System_Int64: return ValueKind.Int64;
                case SpecialType.System_UInt64: return ValueKind.UInt64;
                case SpecialType.System_Single: return ValueKind.Single;
                case SpecialType.System_Double: return ValueKind.Double;
                case SpecialType.System_Char: return ValueKind.Char;
                case SpecialType.System_String: return ValueKind.String;
                case SpecialType.System_Decimal: return ValueKind.Decimal;
                case SpecialType.System_DateTime: return ValueKind.DateTime;
            }

            if (type is IArrayTypeSymbol array)
            {
                if (array.Rank != 1)
                {
                    return null;
                }

                if (array.ElementType.SpecialType == SpecialType.System_Byte)
                {
                    return ValueKind.ByteArray;
                }

                element = array.ElementType;
                return ValueKind.Array;
            }

            if (type is not INamedTypeSymbol named)
            {
                return null;
            }

            if (named.TypeKind == TypeKind.Enum)
            {
                underlying = named.EnumUnderlyingType!.ToDisplayString(TypeFormat);
                return ValueKind.Enum;
            }

            switch (MetadataName(named))
            {
                case "System.DateTimeOffset": return ValueKind.DateTimeOffset;
                case "System.TimeSpan": return ValueKind.TimeSpan;
                case "System.Guid": return ValueKind.Guid;
                case "System.Nullable`1":
                    element = named.TypeArguments[0];
                    return ValueKind.Nullable;
                case "System.Collections.Generic.List`1":
                    element = named.TypeArguments[0];
                    return ValueKind.List;
                case "System.Collections.Immutable.ImmutableArray`1":
                    element = named.TypeArguments[0];
                    return ValueKind.ImmutableArray;
                case "System.Collections.Generic.Dictionary`2":
                    key = named.TypeArguments[0];
                    element = named.TypeArguments[1];
                    return ValueKind.Dictionary;
            }

            var isUserType = named.TypeKind is TypeKind.Class or TypeKind.Struct
                && !named.IsGenericType
                && !named.IsStatic
                && named.Locations.Any(static l => l.IsInSource);
            for (var current = named; isUserType && current is not null; current = current.ContainingType)
            {
                isUserType = current.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal
                    && !current.IsGenericType;
            }

            return isUserType ? ValueKind.Object : null;
        }

        /// <summary>FNV-1a over a canonical description of every serialized type: changes with the member layout.</summary>
        private static ulong SchemaHash(IEnumerable<TypeSpec> types)
        {
            var text = new StringBuilder();
            foreach (var type in types)
            {
                text.Append(Invariant(type.Id)).Append('|').Append(type.Kind.ToString()).Append('|').Append(type.Name).Append('|')
                    .Append(Invariant(type.Element)).Append('|').Append(Invariant(type.Key)).Append('|').Append(type.EnumUnderlying);
                foreach (var member in type.Members)
                {
                    text.Append('|').Append(member.Name).Append(':').Append(Invariant(member.Type));
                }

                text.Append('\n');
            }

            var hash = 14695981039346656037UL;
            foreach (var c in text.ToString())
            {
                hash = unchecked((hash ^ c) * 1099511628211UL);
            }

            return hash;
        }

        private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string SanitizeHintName(string name)
        {
            var builder = new StringBuilder(name.Length);
            foreach (var c in name)
            {
                builder.Append(char.IsLetterOrDigit(c) || c is '.' or '_' ? c : '_');
            }

            return builder.ToString();
        }

        private void Report(DiagnosticDescriptor descriptor, Location location, params string[] arguments) =>
            _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));
    }
}
