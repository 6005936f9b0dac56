import Crypto
import Foundation
internal import GraphQL

/// The whole Shopify Admin API schema of one API version, built from its SDL (a file such as
/// `admin-2026-01.graphql`, or what `shopbulk schema pull` fetched by introspection).
///
/// Building the schema of a real API version takes a while (about 3,000 types), so every schema is
/// built once per process and shared: ``load(path:)`` and ``parse(sdl:label:)`` return the same
/// instance for the same text.
public final class AdminAPISchema: @unchecked Sendable {
    /// Where the schema came from, for messages (`admin-2026-01.graphql`, `API 2026-01 (pulled)`).
    public let label: String
    /// Lower-case hex SHA-256 of the SDL text.
    public let hash: String
    /// Number of named types (introspection types and the five built-in scalars excluded).
    public let typeCount: Int
    let schema: GraphQLSchema

    private init(label: String, hash: String, schema: GraphQLSchema) {
        self.label = label
        self.hash = hash
        self.schema = schema
        let builtIn: Set<String> = ["String", "Int", "Float", "Boolean", "ID"]
        self.typeCount = schema.typeMap.keys.filter { !$0.hasPrefix("__") && !builtIn.contains($0) }.count
    }

    // MARK: building, once per process

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: AdminAPISchema] = [:]

    /// Reads and builds the SDL file at `path` (once per process and content).
    public static func load(path: String) throws(SchemaError) -> AdminAPISchema {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SchemaError(message: "cannot read the schema file \(path) (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SchemaError(message: "the schema file \(path) is not UTF-8 text")
        }
        return try parse(sdl: text, label: (path as NSString).lastPathComponent)
    }

    /// Builds a schema from SDL text (once per process and content).
    public static func parse(sdl: String, label: String) throws(SchemaError) -> AdminAPISchema {
        let hash = SHA256.hash(data: Data(sdl.utf8)).map { String(format: "%02x", $0) }.joined()
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cached = cache[hash] { return cached }
        let built: GraphQLSchema
        do {
            // Shopify's SDL is valid; skipping the SDL rules saves most of the build time.
            built = try buildSchema(source: sdl, assumeValid: true, assumeValidSDL: true)
        } catch let error as GraphQLError {
            let at = error.locations.first.map { ":\($0.line):\($0.column)" } ?? ""
            throw SchemaError(message: "\(label)\(at): not a GraphQL schema (SDL): \(error.message)")
        } catch {
            throw SchemaError(message: "\(label): not a GraphQL schema (SDL): \(error)")
        }
        guard built.queryType != nil, built.getType(name: "QueryRoot") != nil || built.queryType?.name != nil else {
            throw SchemaError(message: "\(label): the schema has no query type")
        }
        let schema = AdminAPISchema(label: label, hash: hash, schema: built)
        guard schema.objectType("Customer") != nil, schema.objectType("Order") != nil else {
            throw SchemaError(message: "\(label): not the Shopify Admin API schema (it has no Customer and Order types)")
        }
        cache[hash] = schema
        return schema
    }

    // MARK: validation

    /// A problem the schema finds in a GraphQL document.
    public struct Diagnostic: Sendable, Equatable {
        public var message: String
        public var line: Int
        public var column: Int
        public var isDeprecation: Bool
    }

    /// Validates `text` (one GraphQL document) against the schema with the GraphQL specification's
    /// rules: every field, argument, enum value, input type and fragment. Deprecated fields, arguments
    /// and enum values come back as diagnostics with `isDeprecation` (Shopify's reason in the message).
    /// A document that does not parse gives no diagnostics (the parser's error is reported elsewhere).
    public func diagnose(_ text: String) -> [Diagnostic] {
        guard let document = try? GraphQL.parse(source: text) else { return [] }
        var out: [Diagnostic] = []
        for error in GraphQL.validate(schema: schema, ast: document) {
            let loc = error.locations.first
            out.append(Diagnostic(message: error.message, line: loc?.line ?? 1, column: loc?.column ?? 1, isDeprecation: false))
        }
        for error in GraphQL.validate(schema: schema, ast: document, rules: [NoDeprecatedCustomRule]) {
            let loc = error.locations.first
            out.append(Diagnostic(message: error.message, line: loc?.line ?? 1, column: loc?.column ?? 1, isDeprecation: true))
        }
        return out
    }

    // MARK: what bulk rules need to know

    func objectType(_ name: String) -> GraphQLObjectType? { schema.getType(name: name) as? GraphQLObjectType }

    private let fieldLock = NSLock()
    private var fieldCache: [String: [String: GraphQLOutputType]] = [:]

    /// The fields of an object or interface type, with their types (cached: the SDL-built types
    /// rebuild their field maps on every call).
    func fields(of typeName: String) -> [String: GraphQLOutputType]? {
        fieldLock.lock()
        defer { fieldLock.unlock() }
        if let cached = fieldCache[typeName] { return cached }
        let map: GraphQLFieldMap?
        switch schema.getType(name: typeName) {
        case let o as GraphQLObjectType: map = try? o.fields()
        case let i as GraphQLInterfaceType: map = try? i.fields()
        default: map = nil
        }
        guard let map else { return nil }
        var out: [String: GraphQLOutputType] = [:]
        for (name, field) in map { out[name] = field.type }
        fieldCache[typeName] = out
        return out
    }

    /// Concrete types of an abstract (interface or union) type, sorted; `[name]` for an object type.
    func concreteTypes(of name: String) -> [String] {
        switch schema.getType(name: name) {
        case let a as GraphQLInterfaceType: return schema.getPossibleTypes(abstractType: a).map(\.name).sorted()
        case let u as GraphQLUnionType: return schema.getPossibleTypes(abstractType: u).map(\.name).sorted()
        default: return [name]
        }
    }

    /// The field's definition on `parent`, looking into the possible types when `parent` is abstract
    /// (fields of inline fragments are merged into their parent's selection).
    func field(_ name: String, on parent: String) -> GraphQLOutputType? {
        if let f = fields(of: parent)?[name] { return f }
        for concrete in concreteTypes(of: parent) where concrete != parent {
            if let f = fields(of: concrete)?[name] { return f }
        }
        return nil
    }

    /// Whether `typeName` exists in this schema.
    public func hasType(_ typeName: String) -> Bool { schema.getType(name: typeName) != nil }

    /// What `name` is under `parent`: a connection (with its node type), a plain list of objects, or an
    /// object; nil if the schema has no such field (or it is a scalar).
    func kind(of name: String, parent: String?) -> AdminSchema.Kind? {
        guard let def = field(name, on: parent ?? "QueryRoot") else { return nil }
        var type: GraphQLType = def
        if let nn = type as? GraphQLNonNull { type = nn.ofType }
        if let list = type as? GraphQLList {
            guard let element = getNamedType(type: list.ofType), element is GraphQLCompositeType else { return nil }
            return .list(type: element.name)
        }
        guard let named = getNamedType(type: type), named is GraphQLCompositeType else { return nil }
        if let node = connectionNodeType(named.name) {
            let idField = fields(of: node)?["id"]
            let hasID = idField.map { getNamedType(type: $0)?.name == "ID" } ?? false
            return .connection(nodeType: node, concreteTypes: concreteTypes(of: node), isNode: hasID)
        }
        return .object(type: named.name)
    }

    /// The node type of a connection type (`OrderConnection` → `Order`), or nil if `name` is not one.
    func connectionNodeType(_ name: String) -> String? {
        guard name.hasSuffix("Connection"), let fields = fields(of: name), let edges = fields["edges"] else { return nil }
        if let nodes = fields["nodes"], let t = getNamedType(type: nodes) { return t.name }
        guard let edgeType = getNamedType(type: edges), let node = self.fields(of: edgeType.name)?["node"] else { return nil }
        return getNamedType(type: node)?.name
    }

    /// Field names of `typeName`, for suggestions.
    func fieldNames(of typeName: String) -> [String] { fields(of: typeName).map { Array($0.keys) } ?? [] }
}

/// A schema file or cached schema that cannot be used.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
