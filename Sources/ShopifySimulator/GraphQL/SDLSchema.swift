import Foundation
internal import GraphQL

/// The real Admin API schema (an SDL file) the simulator serves with `--schema`: every request is
/// validated against it (answered with errors in Shopify's shapes), introspection is answered from
/// it, and fields the simulator does not model get their kind and nullability from it.
final class SDLSchema: @unchecked Sendable {
    let path: String
    let schema: GraphQLSchema

    private init(path: String, schema: GraphQLSchema) {
        self.path = path
        self.schema = schema
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: SDLSchema] = [:]

    /// Reads and builds the SDL at `path`, once per process.
    static func load(path: String) throws -> SDLSchema {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cached = cache[path] { return cached }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SimulatorSchemaError(message: "cannot read the schema file \(path)")
        }
        let built: GraphQLSchema
        do {
            built = try buildSchema(source: text, assumeValid: true, assumeValidSDL: true)
        } catch {
            throw SimulatorSchemaError(message: "\(path) is not a GraphQL schema (SDL): \(error)")
        }
        let schema = SDLSchema(path: path, schema: built)
        cache[path] = schema
        return schema
    }

    // MARK: validation, in Shopify's shapes

    /// The errors Shopify would answer for `text` (nil: it does not parse; the caller reports that).
    func validate(_ text: String) -> [GQLError]? {
        guard let document = try? GraphQL.parse(source: text) else { return nil }
        return GraphQL.validate(schema: schema, ast: document).map { shopifyError($0, document: document) }
    }

    /// The deprecated fields a valid request uses, as `Type.field` (for `X-Shopify-API-Deprecated-Reason`).
    func deprecatedFields(_ text: String) -> [String] {
        guard let document = try? GraphQL.parse(source: text) else { return [] }
        var out: [String] = []
        for e in GraphQL.validate(schema: schema, ast: document, rules: [NoDeprecatedCustomRule]) {
            // "The field Customer.email is deprecated. …"
            guard e.message.hasPrefix("The field "), let name = e.message.dropFirst(10).split(separator: " ").first else { continue }
            let field = String(name)
            if !out.contains(field) { out.append(field) }
        }
        return out
    }

    /// graphql-js wording → Shopify's (graphql-ruby) wording and `extensions.code`.
    func shopifyError(_ e: GraphQLError, document: Document) -> GQLError {
        var error = shopifyShape(e, document: document)
        if let loc = e.locations.first { error.path = Self.path(at: loc, in: document) }
        return error
    }

    /// The response path (`["query", "customers", "edges", "node", "firstNme"]`) of the field or
    /// argument that starts at `location`, as Shopify reports it.
    static func path(at location: SourceLocation, in document: Document) -> [String]? {
        func starts(_ loc: Location?) -> Bool { loc?.startToken.line == location.line && loc?.startToken.column == location.column }
        func visit(_ set: SelectionSet?, _ path: [String]) -> [String]? {
            guard let set else { return nil }
            for s in set.selections {
                if let f = s as? GraphQL.Field {
                    let here = path + [f.alias?.value ?? f.name.value]
                    if starts(f.loc) { return here }
                    for a in f.arguments where starts(a.loc) || starts(a.value.loc) { return here + [a.name.value] }
                    if let found = visit(f.selectionSet, here) { return found }
                } else if let i = s as? InlineFragment {
                    if let found = visit(i.selectionSet, path) { return found }
                }
            }
            return nil
        }
        for d in document.definitions {
            if let o = d as? OperationDefinition {
                let root = (o.operation == .mutation ? "mutation" : "query") + (o.name.map { " \($0.value)" } ?? "")
                if let found = visit(o.selectionSet, [root]) { return found }
            } else if let f = d as? FragmentDefinition {
                if let found = visit(f.selectionSet, ["fragment \(f.name.value)"]) { return found }
            }
        }
        return nil
    }

    private func shopifyShape(_ e: GraphQLError, document: Document) -> GQLError {
        let locations = e.locations.map { GQLError.SourceLoc(line: $0.line, column: $0.column) }
        let m = e.message
        func quoted(_ s: String) -> [String] {
            var out: [String] = []
            var current: String?
            for ch in s {
                if ch == "\"" {
                    if let c = current { out.append(c); current = nil } else { current = "" }
                } else if current != nil {
                    current!.append(ch)
                }
            }
            return out
        }
        let q = quoted(m)
        if m.hasPrefix("Cannot query field"), q.count >= 2 {
            return GQLError(
                message: "Field '\(q[0])' doesn't exist on type '\(q[1])'", locations: locations,
                extensions: [("code", "undefinedField"), ("typeName", q[1]), ("fieldName", q[0])])
        }
        if m.hasPrefix("Unknown argument"), q.count >= 2 {
            let field = q[1].split(separator: ".").last.map(String.init) ?? q[1]
            return GQLError(
                message: "Field '\(field)' doesn't accept argument '\(q[0])'", locations: locations,
                extensions: [("code", "argumentNotAccepted"), ("name", field), ("typeName", "Field"), ("argumentName", q[0])])
        }
        if m.hasPrefix("Value ") || m.hasPrefix("Enum ") || m.contains("cannot represent") || m.hasPrefix("Expected value of type") {
            if let (argument, field, value, type) = argumentAt(e.locations.first, in: document) {
                return GQLError(
                    message: "Argument '\(argument)' on Field '\(field)' has an invalid value (\(value)). Expected type '\(type)'.",
                    locations: locations,
                    extensions: [("code", "argumentLiteralsIncompatible"), ("typeName", "Field"), ("argumentName", argument)])
            }
        }
        if m.hasPrefix("Field \""), m.contains("is required, but it was not provided"), q.count >= 2 {
            return GQLError(
                message: "Field '\(q[0])' is missing required arguments: \(q[1])", locations: locations,
                extensions: [("code", "missingRequiredArguments"), ("className", "Field"), ("name", q[0]), ("arguments", q[1])])
        }
        if m.contains("must not have a selection"), q.count >= 2 {
            return GQLError(
                message: "Selections can't be made on scalars (field '\(q[0])' returns \(q[1]) but has selections)", locations: locations,
                extensions: [("code", "selectionMismatch"), ("nodeName", "field '\(q[0])'"), ("typeName", q[1])])
        }
        if m.contains("must have a selection of subfields"), q.count >= 2 {
            return GQLError(
                message:
                    "Field must have selections (field '\(q[0])' returns \(q[1]) but has no selections. Did you mean '\(q[0]) { ... }'?)",
                locations: locations, extensions: [("code", "selectionMismatch"), ("nodeName", "field '\(q[0])'"), ("typeName", q[1])])
        }
        if m.hasPrefix("Unknown type"), let t = q.first {
            return GQLError(
                message: "No such type \(t), so it can't be a fragment condition", locations: locations,
                extensions: [("code", "undefinedType"), ("typeName", t)])
        }
        return GQLError(message: m, locations: locations, extensions: [("code", "validationError")])
    }

    /// The argument whose value starts at `location`: its name, its field, the value as written and
    /// the argument's type.
    func argumentAt(_ location: SourceLocation?, in document: Document) -> (String, String, String, String)? {
        guard let location else { return nil }
        var found: (String, String, String, String)?
        func visit(_ set: SelectionSet?, parent: String?) {
            guard let set, found == nil else { return }
            for s in set.selections {
                if let f = s as? GraphQL.Field {
                    var childType: String?
                    if let parent, let t = self.fieldType(f.name.value, on: parent) { childType = getNamedType(type: t)?.name }
                    for a in f.arguments {
                        let start = a.value.loc?.startToken
                        if start?.line == location.line && start?.column == location.column {
                            var argType = "?"
                            if let parent, let t = self.argumentType(a.name.value, field: f.name.value, on: parent) { argType = t }
                            let written: String = GraphQL.print(ast: a.value)
                            found = (a.name.value, f.name.value, written, argType)
                            return
                        }
                    }
                    visit(f.selectionSet, parent: childType)
                } else if let i = s as? InlineFragment {
                    visit(i.selectionSet, parent: i.typeCondition?.name.value ?? parent)
                }
            }
        }
        for d in document.definitions {
            if let o = d as? OperationDefinition {
                visit(o.selectionSet, parent: o.operation == .mutation ? schema.mutationType?.name : schema.queryType?.name)
            } else if let f = d as? FragmentDefinition {
                visit(f.selectionSet, parent: f.typeCondition.name.value)
            }
        }
        return found
    }

    // MARK: introspection

    /// Whether the document asks for `__schema` or `__type` (answered from the SDL).
    static func isIntrospection(_ text: String) -> Bool { text.contains("__schema") || text.contains("__type(") }

    /// Answers an introspection request (already validated) from the SDL; the whole JSON response body.
    func introspect(_ text: String, variables: [String: ArgValue], operationName: String?) -> [UInt8] {
        switch DocumentParser.parse(text, variables: variables, operationName: operationName) {
        case .failure(let e): return AdminExecutor.errorsOnly([e])
        case .success(let parsed):
            var fields: [RawField] = []
            func collect(_ sels: [RawSelection]) {
                for s in sels {
                    switch s {
                    case .field(let f): fields.append(f)
                    case .fragment(_, let inner): collect(inner)
                    }
                }
            }
            collect(parsed.selections)
            return IntrospectionWriter(sdl: self).run(fields)
        }
    }

    // MARK: types of fields the simulator does not model

    private let lock = NSLock()
    private var fieldCache: [String: [String: GraphQLField]] = [:]

    func fields(of typeName: String) -> [String: GraphQLField]? {
        lock.lock()
        defer { lock.unlock() }
        if let c = fieldCache[typeName] { return c }
        let map: GraphQLFieldMap?
        switch schema.getType(name: typeName) {
        case let o as GraphQLObjectType: map = try? o.fields()
        case let i as GraphQLInterfaceType: map = try? i.fields()
        default: map = nil
        }
        guard let map else { return nil }
        var out: [String: GraphQLField] = [:]
        for (k, v) in map { out[k] = v }
        fieldCache[typeName] = out
        return out
    }

    private var orderedCache: [String: [(String, GraphQLField)]] = [:]

    /// The fields of an object or interface type in schema order (for introspection).
    func orderedFields(of typeName: String) -> [(String, GraphQLField)] {
        lock.lock()
        defer { lock.unlock() }
        if let c = orderedCache[typeName] { return c }
        let map: GraphQLFieldMap?
        switch schema.getType(name: typeName) {
        case let o as GraphQLObjectType: map = try? o.fields()
        case let i as GraphQLInterfaceType: map = try? i.fields()
        default: map = nil
        }
        let out = (map ?? [:]).map { ($0.key, $0.value) }
        orderedCache[typeName] = out
        return out
    }

    func typeDescription(_ t: GraphQLNamedType) -> String? {
        switch t {
        case let o as GraphQLObjectType: return o.description
        case let i as GraphQLInterfaceType: return i.description
        case let e as GraphQLEnumType: return e.description
        case let s as GraphQLScalarType: return s.description
        case let u as GraphQLUnionType: return u.description
        case let i as GraphQLInputObjectType: return i.description
        default: return nil
        }
    }

    func fieldType(_ name: String, on type: String) -> GraphQLOutputType? { fields(of: type)?[name]?.type }

    func argumentType(_ argument: String, field: String, on type: String) -> String? {
        guard let arg = fields(of: type)?[field]?.args[argument] else { return nil }
        var t: GraphQLType = arg.type
        if let nn = t as? GraphQLNonNull { t = nn.ofType }
        return getNamedType(type: t)?.name
    }

    /// Concrete types of an interface or union; nil for other types.
    func possibleTypes(of name: String) -> [String]? {
        switch schema.getType(name: name) {
        case let a as GraphQLInterfaceType: return schema.getPossibleTypes(abstractType: a).map(\.name).sorted()
        case let u as GraphQLUnionType: return schema.getPossibleTypes(abstractType: u).map(\.name).sorted()
        default: return nil
        }
    }

    func hasType(_ name: String) -> Bool { schema.getType(name: name) != nil }

    /// A definition for a field the built-in schema lacks, from the SDL (nil if the SDL lacks it too).
    func fieldDef(_ name: String, on type: String) -> FieldDef? {
        guard let field = fields(of: type)?[name] else { return nil }
        var t: GraphQLType = field.type
        var nullable = true
        if let nn = t as? GraphQLNonNull {
            t = nn.ofType
            nullable = false
        }
        let isList = t is GraphQLList
        guard let named = getNamedType(type: t) else { return nil }
        let kind: FieldKind
        var nodeType = named.name
        if named is GraphQLCompositeType {
            if !isList, named.name.hasSuffix("Connection"), let node = connectionNode(named.name) {
                kind = .connection
                nodeType = node
            } else {
                kind = isList ? .objectList : .object
            }
        } else {
            kind = isList ? .scalarList : .scalar
        }
        var def = FieldDef(name: name, kind: kind, type: nodeType, args: Set(field.args.keys))
        def.required = Set(field.args.filter { $0.value.type is GraphQLNonNull && $0.value.defaultValue == nil }.map(\.key))
        def.nullable = nullable
        def.unmodelled = true
        def.selectionTypeName = named.name
        if kind == .scalar { def.leafDefault = Self.placeholder(for: named) }
        return def
    }

    func connectionNode(_ name: String) -> String? {
        guard let f = fields(of: name), f["edges"] != nil else { return nil }
        if let nodes = f["nodes"], let t = getNamedType(type: nodes.type) { return t.name }
        guard let edge = f["edges"].flatMap({ getNamedType(type: $0.type) }), let node = fields(of: edge.name)?["node"] else { return nil }
        return getNamedType(type: node.type)?.name
    }

    /// A type-correct JSON value for a non-null leaf the simulator has no data for.
    static func placeholder(for type: GraphQLNamedType) -> [UInt8] {
        if let e = type as? GraphQLEnumType, let first = e.values.first { return JSONWriter.escaped(first.name) }
        let text: String
        switch type.name {
        case "Int": text = "0"
        case "Float": text = "0.0"
        case "Boolean": text = "false"
        case "ID": text = #""gid://shopify/Unmodelled/0""#
        case "DateTime": text = #""1970-01-01T00:00:00Z""#
        case "Date": text = #""1970-01-01""#
        case "Decimal", "Money": text = #""0.0""#
        case "UnsignedInt64": text = #""0""#
        case "URL": text = #""https://example.com/""#
        case "Color": text = ##""#000000""##
        case "JSON": text = "{}"
        default: text = #""""#
        }
        return Array(text.utf8)
    }
}

struct SimulatorSchemaError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
