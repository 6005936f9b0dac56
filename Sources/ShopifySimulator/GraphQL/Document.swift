internal import GraphQL

/// An argument value after variables were substituted.
indirect enum ArgValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case enumValue(String)
    case list([ArgValue])
    case object([String: ArgValue])

    var string: String? {
        switch self {
        case .string(let s), .enumValue(let s): return s
        case .int(let i): return String(i)
        default: return nil
        }
    }
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .float(let d): return Int(d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var stringList: [String]? { if case .list(let l) = self { return l.compactMap(\.string) }; return nil }
    var isNull: Bool { self == .null }

    static func from(json: JSONValue?) -> ArgValue {
        switch json {
        case nil, .null?: return .null
        case .bool(let b)?: return .bool(b)
        case .int(let i)?: return .int(i)
        case .double(let d)?: return .float(d)
        case .string(let s)?: return .string(s)
        case .array(let a)?: return .list(a.map { from(json: $0) })
        case .object(let o)?: return .object(o.mapValues { from(json: $0) })
        }
    }
}

/// One selected field before schema checks.
struct RawField: Sendable {
    var alias: String?
    var name: String
    var args: [(String, ArgValue)]
    var selections: [RawSelection]
    var hasSelectionSet: Bool
    var line: Int
    var column: Int
}

indirect enum RawSelection: Sendable {
    case field(RawField)
    case fragment(typeCondition: String?, [RawSelection])
}

struct ParsedOperation: Sendable {
    var isMutation: Bool
    var name: String?
    var selections: [RawSelection]
    /// First element of error paths: `query`, `mutation`, or `query Name`.
    var pathRoot: String { (isMutation ? "mutation" : "query") + (name.map { " \($0)" } ?? "") }
}

/// A GraphQL error as Shopify returns it in `errors`.
struct GQLError: Error, Sendable, Equatable {
    var message: String
    var locations: [SourceLoc] = []
    var path: [String]? = nil
    var extensions: [(String, String)] = []

    struct SourceLoc: Sendable, Equatable { var line: Int; var column: Int }

    static func == (a: GQLError, b: GQLError) -> Bool { a.message == b.message && a.locations == b.locations }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("message", message)
        if !locations.isEmpty {
            w.key("locations"); w.beginArray()
            for l in locations { w.beginObject(); w.field("line", l.line); w.field("column", l.column); w.endObject() }
            w.endArray()
        }
        if let path {
            w.key("path"); w.beginArray(); for p in path { w.string(p) }; w.endArray()
        }
        if !extensions.isEmpty {
            w.key("extensions"); w.beginObject()
            for (k, v) in extensions { w.field(k, v) }
            w.endObject()
        }
        w.endObject()
    }
}

enum DocumentParser {
    /// Parses a request's document and resolves variables; syntax errors come back as GraphQL errors.
    static func parse(_ text: String, variables: [String: ArgValue], operationName: String?) -> Result<ParsedOperation, GQLError> {
        let document: Document
        do {
            document = try GraphQL.parse(source: text)
        } catch let e as GraphQLError {
            return .failure(
                GQLError(
                    message: e.message, locations: e.locations.map { .init(line: $0.line, column: $0.column) },
                    extensions: [("code", "parseError")]))
        } catch {
            return .failure(GQLError(message: "Parse error: \(error)"))
        }
        var fragments: [String: FragmentDefinition] = [:]
        var operations: [OperationDefinition] = []
        for d in document.definitions {
            if let f = d as? FragmentDefinition { fragments[f.name.value] = f }
            if let o = d as? OperationDefinition { operations.append(o) }
        }
        let op: OperationDefinition
        if let operationName {
            guard let o = operations.first(where: { $0.name?.value == operationName }) else {
                return .failure(GQLError(message: "No operation named \"\(operationName)\""))
            }
            op = o
        } else {
            guard operations.count == 1 else {
                return .failure(
                    GQLError(
                        message: operations.isEmpty
                            ? "No operations in query document"
                            : "An operation name is required"))
            }
            op = operations[0]
        }
        if op.operation == .subscription {
            return .failure(GQLError(message: "Subscriptions are not supported"))
        }
        var vars: [String: ArgValue] = [:]
        for vd in op.variableDefinitions {
            let name = vd.variable.name.value
            if let v = variables[name] {
                vars[name] = v
            } else if let dv = vd.defaultValue {
                vars[name] = convert(dv, vars: [:])
            } else if vd.type is NonNullType {
                return .failure(
                    GQLError(
                        message: "Variable $\(name) of type \(typeText(vd.type)) was provided invalid value",
                        extensions: [("code", "INVALID_VARIABLE")]))
            }
        }
        var visiting: Set<String> = []
        let sels = convert(op.selectionSet, fragments: fragments, vars: vars, visiting: &visiting)
        return .success(ParsedOperation(isMutation: op.operation == .mutation, name: op.name?.value, selections: sels))
    }

    private static func typeText(_ t: any GraphQL.`Type`) -> String {
        if let n = t as? NamedType { return n.name.value }
        if let l = t as? ListType { return "[\(typeText(l.type))]" }
        if let nn = t as? NonNullType { return "\(typeText(nn.type))!" }
        return "?"
    }

    private static func convert(
        _ set: SelectionSet, fragments: [String: FragmentDefinition], vars: [String: ArgValue], visiting: inout Set<String>
    ) -> [RawSelection] {
        var out: [RawSelection] = []
        for s in set.selections {
            if let f = s as? GraphQL.Field {
                let args = f.arguments.map { ($0.name.value, convert($0.value, vars: vars)) }
                let children = f.selectionSet.map { convert($0, fragments: fragments, vars: vars, visiting: &visiting) } ?? []
                out.append(
                    .field(
                        RawField(
                            alias: f.alias?.value, name: f.name.value, args: args, selections: children,
                            hasSelectionSet: f.selectionSet != nil,
                            line: f.loc?.startToken.line ?? 0, column: f.loc?.startToken.column ?? 0)))
            } else if let i = s as? InlineFragment {
                out.append(
                    .fragment(
                        typeCondition: i.typeCondition?.name.value,
                        convert(i.selectionSet, fragments: fragments, vars: vars, visiting: &visiting)))
            } else if let sp = s as? FragmentSpread, let def = fragments[sp.name.value], !visiting.contains(sp.name.value) {
                visiting.insert(sp.name.value)
                out.append(
                    .fragment(
                        typeCondition: def.typeCondition.name.value,
                        convert(def.selectionSet, fragments: fragments, vars: vars, visiting: &visiting)))
                visiting.remove(sp.name.value)
            }
        }
        return out
    }

    private static func convert(_ v: any GraphQL.Value, vars: [String: ArgValue]) -> ArgValue {
        switch v {
        case let x as Variable: return vars[x.name.value] ?? .null
        case let x as IntValue: return Int(x.value).map { .int($0) } ?? .float(Double(x.value) ?? 0)
        case let x as FloatValue: return .float(Double(x.value) ?? 0)
        case let x as StringValue: return .string(x.value)
        case let x as BooleanValue: return .bool(x.value)
        case is NullValue: return .null
        case let x as EnumValue: return .enumValue(x.value)
        case let x as ListValue: return .list(x.values.map { convert($0, vars: vars) })
        case let x as ObjectValue:
            var o: [String: ArgValue] = [:]
            for f in x.fields { o[f.name.value] = convert(f.value, vars: vars) }
            return .object(o)
        default: return .null
        }
    }
}
