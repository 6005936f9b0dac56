import Foundation
internal import GraphQL

/// Answers `__schema` / `__type` requests from the SDL directly (walking the schema's types), which
/// is fast enough for a whole-schema introspection of the real Admin API (about 3,000 types).
struct IntrospectionWriter {
    let sdl: SDLSchema

    /// The whole response body for a request whose root fields are introspection fields.
    func run(_ fields: [RawField]) -> [UInt8] {
        var w = JSONWriter(capacity: 1 << 20)
        w.beginObject()
        w.key("data")
        w.beginObject()
        for f in fields {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__schema": writeSchema(f.selections, &w)
            case "__type":
                if let name = f.args.first(where: { $0.0 == "name" })?.1.string, let t = sdl.schema.getType(name: name) {
                    writeType(t, f.selections, &w)
                } else {
                    w.null()
                }
            case "__typename": w.string(sdl.schema.queryType?.name ?? "QueryRoot")
            default: w.null()
            }
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// Fields of the selection, fragments (on introspection types) flattened.
    func flat(_ sels: [RawSelection]) -> [RawField] {
        var out: [RawField] = []
        for s in sels {
            switch s {
            case .field(let f): out.append(f)
            case .fragment(_, let inner): out += flat(inner)
            }
        }
        return out
    }

    func arg(_ f: RawField, _ name: String) -> ArgValue? { f.args.first { $0.0 == name }?.1 }

    func writeSchema(_ sels: [RawSelection], _ w: inout JSONWriter) {
        let schema = sdl.schema
        w.beginObject()
        for f in flat(sels) {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__typename": w.string("__Schema")
            case "queryType": if let t = schema.queryType { writeType(t, f.selections, &w) } else { w.null() }
            case "mutationType": if let t = schema.mutationType { writeType(t, f.selections, &w) } else { w.null() }
            case "subscriptionType": if let t = schema.subscriptionType { writeType(t, f.selections, &w) } else { w.null() }
            case "types":
                w.beginArray()
                for name in schema.typeMap.keys.sorted() { if let t = schema.typeMap[name] { writeType(t, f.selections, &w) } }
                w.endArray()
            case "directives":
                w.beginArray()
                for d in schema.directives { writeDirective(d, f.selections, &w) }
                w.endArray()
            default: w.null()
            }
        }
        w.endObject()
    }

    func writeDirective(_ d: GraphQLDirective, _ sels: [RawSelection], _ w: inout JSONWriter) {
        w.beginObject()
        for f in flat(sels) {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__typename": w.string("__Directive")
            case "name": w.string(d.name)
            case "description": w.string(d.description)
            case "isRepeatable": w.bool(d.isRepeatable)
            case "locations":
                w.beginArray()
                for l in d.locations { w.string(l.rawValue) }
                w.endArray()
            case "args":
                w.beginArray()
                for a in d.args {
                    writeInputValue(
                        name: a.name, type: a.type, defaultValue: a.defaultValue, deprecation: a.deprecationReason, f.selections, &w)
                }
                w.endArray()
            default: w.null()
            }
        }
        w.endObject()
    }

    func kind(_ t: GraphQLType) -> String {
        switch t {
        case is GraphQLNonNull: return "NON_NULL"
        case is GraphQLList: return "LIST"
        case is GraphQLScalarType: return "SCALAR"
        case is GraphQLObjectType: return "OBJECT"
        case is GraphQLInterfaceType: return "INTERFACE"
        case is GraphQLUnionType: return "UNION"
        case is GraphQLEnumType: return "ENUM"
        case is GraphQLInputObjectType: return "INPUT_OBJECT"
        default: return "SCALAR"
        }
    }

    func writeType(_ t: GraphQLType, _ sels: [RawSelection], _ w: inout JSONWriter) {
        let named = t as? GraphQLNamedType
        w.beginObject()
        for f in flat(sels) {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__typename": w.string("__Type")
            case "kind": w.string(kind(t))
            case "name": w.string(named?.name)
            case "description": w.string(named.flatMap { sdl.typeDescription($0) })
            case "specifiedByURL", "specifiedByUrl": w.null()
            case "isOneOf": w.bool((t as? GraphQLInputObjectType)?.isOneOf ?? false)
            case "ofType":
                if let nn = t as? GraphQLNonNull {
                    writeType(nn.ofType, f.selections, &w)
                } else if let l = t as? GraphQLList {
                    writeType(l.ofType, f.selections, &w)
                } else {
                    w.null()
                }
            case "fields":
                guard let named, t is GraphQLObjectType || t is GraphQLInterfaceType else { w.null(); break }
                let includeDeprecated = arg(f, "includeDeprecated")?.bool ?? false
                w.beginArray()
                for (name, field) in sdl.orderedFields(of: named.name) where includeDeprecated || field.deprecationReason == nil {
                    writeField(name, field, f.selections, &w)
                }
                w.endArray()
            case "interfaces":
                let list: [GraphQLInterfaceType]?
                if let o = t as? GraphQLObjectType {
                    list = (try? o.interfaces()) ?? []
                } else if let i = t as? GraphQLInterfaceType {
                    list = (try? i.interfaces()) ?? []
                } else {
                    list = nil
                }
                guard let list else { w.null(); break }
                w.beginArray()
                for i in list { writeType(i, f.selections, &w) }
                w.endArray()
            case "possibleTypes":
                guard let named, let possible = sdl.possibleTypes(of: named.name) else { w.null(); break }
                w.beginArray()
                for name in possible { if let p = sdl.schema.getType(name: name) { writeType(p, f.selections, &w) } }
                w.endArray()
            case "enumValues":
                guard let e = t as? GraphQLEnumType else { w.null(); break }
                let includeDeprecated = arg(f, "includeDeprecated")?.bool ?? false
                w.beginArray()
                for v in e.values where includeDeprecated || !v.isDeprecated {
                    w.beginObject()
                    for g in flat(f.selections) {
                        w.key(g.alias ?? g.name)
                        switch g.name {
                        case "__typename": w.string("__EnumValue")
                        case "name": w.string(v.name)
                        case "description": w.string(v.description)
                        case "isDeprecated": w.bool(v.isDeprecated)
                        case "deprecationReason": w.string(v.deprecationReason)
                        default: w.null()
                        }
                    }
                    w.endObject()
                }
                w.endArray()
            case "inputFields":
                guard let i = t as? GraphQLInputObjectType else { w.null(); break }
                w.beginArray()
                for (name, field) in (try? i.fields()) ?? [:] {
                    writeInputValue(
                        name: name, type: field.type, defaultValue: field.defaultValue, deprecation: field.deprecationReason, f.selections,
                        &w)
                }
                w.endArray()
            default: w.null()
            }
        }
        w.endObject()
    }

    func writeField(_ name: String, _ field: GraphQLField, _ sels: [RawSelection], _ w: inout JSONWriter) {
        w.beginObject()
        for f in flat(sels) {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__typename": w.string("__Field")
            case "name": w.string(name)
            case "description": w.string(field.description)
            case "isDeprecated": w.bool(field.deprecationReason != nil)
            case "deprecationReason": w.string(field.deprecationReason)
            case "type": writeType(field.type, f.selections, &w)
            case "args":
                w.beginArray()
                for (argName, a) in field.args {
                    writeInputValue(
                        name: argName, type: a.type, defaultValue: a.defaultValue, deprecation: a.deprecationReason, f.selections, &w)
                }
                w.endArray()
            default: w.null()
            }
        }
        w.endObject()
    }

    func writeInputValue(
        name: String, type: GraphQLInputType, defaultValue: Map?, deprecation: String?, _ sels: [RawSelection], _ w: inout JSONWriter
    ) {
        w.beginObject()
        for f in flat(sels) {
            w.key(f.alias ?? f.name)
            switch f.name {
            case "__typename": w.string("__InputValue")
            case "name": w.string(name)
            case "description": w.null()
            case "type": writeType(type, f.selections, &w)
            case "defaultValue": w.string(defaultValue.map { Self.literal($0, type: type) })
            case "isDeprecated": w.bool(deprecation != nil)
            case "deprecationReason": w.string(deprecation)
            default: w.null()
            }
        }
        w.endObject()
    }

    /// A default value as a GraphQL literal (enum values unquoted).
    static func literal(_ value: Map, type: GraphQLType) -> String {
        var t: GraphQLType = type
        if let nn = t as? GraphQLNonNull { t = nn.ofType }
        switch value {
        case .undefined, .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s):
            if getNamedType(type: t) is GraphQLEnumType { return s }
            return String(decoding: JSONWriter.escaped(s), as: UTF8.self)
        case .array(let a):
            let element = (t as? GraphQLList)?.ofType ?? t
            return "[" + a.map { literal($0, type: element) }.joined(separator: ", ") + "]"
        case .dictionary(let d):
            let input = getNamedType(type: t) as? GraphQLInputObjectType
            let fields = (try? input?.fields()) ?? [:]
            return "{" + d.map { k, v in "\(k): " + literal(v, type: fields[k]?.type ?? t) }.joined(separator: ", ") + "}"
        }
    }
}
