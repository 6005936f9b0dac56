import JSONL

/// Fetching a shop's Admin API schema by introspection, as SDL text.
public enum AdminIntrospection {
    /// The introspection query: every type with its fields, arguments, input fields, interfaces,
    /// enum values and possible types, deprecated ones included, without descriptions (they are
    /// most of the bytes and validation does not need them).
    public static let query = """
        query ShopbulkIntrospection {
          __schema {
            queryType { name }
            mutationType { name }
            subscriptionType { name }
            types { ...ShopbulkFullType }
            directives { name locations args { ...ShopbulkInputValue } }
          }
        }
        fragment ShopbulkFullType on __Type {
          kind
          name
          fields(includeDeprecated: true) { name args { ...ShopbulkInputValue } type { ...ShopbulkTypeRef } isDeprecated deprecationReason }
          inputFields { ...ShopbulkInputValue }
          interfaces { ...ShopbulkTypeRef }
          enumValues(includeDeprecated: true) { name isDeprecated deprecationReason }
          possibleTypes { ...ShopbulkTypeRef }
        }
        fragment ShopbulkInputValue on __InputValue { name type { ...ShopbulkTypeRef } defaultValue }
        fragment ShopbulkTypeRef on __Type {
          kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
        }
        """

    static let builtInScalars: Set<String> = ["String", "Int", "Float", "Boolean", "ID"]
    static let builtInDirectives: Set<String> = ["include", "skip", "deprecated", "specifiedBy", "oneOf"]

    /// The SDL of an introspection result (`data` of the query above), and its number of named types.
    public static func sdl(fromIntrospection data: JSONValue) throws(ShopifyError) -> (sdl: String, typeCount: Int) {
        guard let schema = data["__schema"], let types = schema["types"]?.array else {
            throw ShopifyError(code: .badResponse, message: "the introspection answer has no __schema.types")
        }
        var out = "schema {\n"
        guard let queryName = schema["queryType"]?["name"]?.string else {
            throw ShopifyError(code: .badResponse, message: "the introspection answer has no query type")
        }
        out += "  query: \(queryName)\n"
        if let m = schema["mutationType"]?["name"]?.string { out += "  mutation: \(m)\n" }
        if let s = schema["subscriptionType"]?["name"]?.string { out += "  subscription: \(s)\n" }
        out += "}\n"
        for d in schema["directives"]?.array ?? [] {
            guard let name = d["name"]?.string, !builtInDirectives.contains(name) else { continue }
            let locations = (d["locations"]?.array ?? []).compactMap(\.string)
            out += "\ndirective @\(name)\(try arguments(d["args"]))" + " on " + locations.joined(separator: " | ") + "\n"
        }
        var count = 0
        for t in types {
            guard let name = t["name"]?.string, !name.hasPrefix("__"), let kind = t["kind"]?.string else { continue }
            if kind == "SCALAR" && builtInScalars.contains(name) { continue }
            count += 1
            out += "\n"
            switch kind {
            case "SCALAR":
                out += "scalar \(name)\n"
            case "OBJECT", "INTERFACE":
                let interfaces = (t["interfaces"]?.array ?? []).compactMap { $0["name"]?.string }
                out += (kind == "OBJECT" ? "type " : "interface ") + name
                if !interfaces.isEmpty { out += " implements " + interfaces.joined(separator: " & ") }
                out += " {\n"
                for f in t["fields"]?.array ?? [] {
                    guard let fname = f["name"]?.string, let type = f["type"] else { continue }
                    out += "  \(fname)\(try arguments(f["args"])): \(try typeRef(type))\(deprecated(f))\n"
                }
                out += "}\n"
            case "UNION":
                let members = (t["possibleTypes"]?.array ?? []).compactMap { $0["name"]?.string }
                out += "union \(name) = " + members.joined(separator: " | ") + "\n"
            case "ENUM":
                out += "enum \(name) {\n"
                for v in t["enumValues"]?.array ?? [] {
                    guard let vname = v["name"]?.string else { continue }
                    out += "  \(vname)\(deprecated(v))\n"
                }
                out += "}\n"
            case "INPUT_OBJECT":
                out += "input \(name) {\n"
                for f in t["inputFields"]?.array ?? [] { out += "  " + (try inputValue(f)) + "\n" }
                out += "}\n"
            default:
                throw ShopifyError(code: .badResponse, message: "the introspection answer has a type \(name) of unknown kind \(kind)")
            }
        }
        return (out, count)
    }

    static func arguments(_ args: JSONValue?) throws(ShopifyError) -> String {
        let list = args?.array ?? []
        guard !list.isEmpty else { return "" }
        var parts: [String] = []
        for a in list { parts.append(try inputValue(a)) }
        return "(" + parts.joined(separator: ", ") + ")"
    }

    static func inputValue(_ v: JSONValue) throws(ShopifyError) -> String {
        guard let name = v["name"]?.string, let type = v["type"] else {
            throw ShopifyError(code: .badResponse, message: "the introspection answer has an input value without name or type")
        }
        var s = "\(name): \(try typeRef(type))"
        if let d = v["defaultValue"]?.string { s += " = \(d)" }
        return s
    }

    static func typeRef(_ t: JSONValue) throws(ShopifyError) -> String {
        switch t["kind"]?.string {
        case "NON_NULL":
            guard let inner = t["ofType"] else { break }
            return try typeRef(inner) + "!"
        case "LIST":
            guard let inner = t["ofType"] else { break }
            return "[" + (try typeRef(inner)) + "]"
        default:
            if let name = t["name"]?.string { return name }
        }
        throw ShopifyError(code: .badResponse, message: "the introspection answer has a type reference without a name")
    }

    static func deprecated(_ v: JSONValue) -> String {
        guard v["isDeprecated"]?.bool == true else { return "" }
        guard let reason = v["deprecationReason"]?.string else { return " @deprecated" }
        return " @deprecated(reason: \(graphQLString(reason)))"
    }

    static func graphQLString(_ s: String) -> String { JSONString.quoted(s) }
}

extension ShopifyAdminClient {
    /// The shop's Admin API schema for the client's API version, by introspection, as SDL.
    public func fetchSchema() async throws -> (sdl: String, typeCount: Int) {
        let data = try await strictGraphQL(query: AdminIntrospection.query, estimatedCost: 10)
        let result = try AdminIntrospection.sdl(fromIntrospection: data)
        logger.info("schema fetched by introspection", metadata: ["api_version": "\(endpoint.apiVersion)", "types": "\(result.typeCount)"])
        return result
    }
}
