/// A selected field checked against the schema: what the executors run.
final class CField: Sendable {
    /// Response key: the alias, else the field name.
    let key: String
    /// `"key":` pre-escaped.
    let keyBytes: [UInt8]
    let name: String
    let def: FieldDef
    let args: [String: ArgValue]
    /// Sub-selection when the field's type is concrete.
    let children: [CField]
    /// Sub-selection per concrete type when the field's type is abstract (`Node`).
    let childrenByType: [String: [CField]]
    let line: Int
    let column: Int

    init(
        key: String, name: String, def: FieldDef, args: [String: ArgValue], children: [CField], childrenByType: [String: [CField]],
        line: Int, column: Int
    ) {
        self.key = key
        var kb = JSONWriter.escaped(key)
        kb.append(UInt8(ascii: ":"))
        self.keyBytes = kb
        self.name = name
        self.def = def
        self.args = args
        self.children = children
        self.childrenByType = childrenByType
        self.line = line
        self.column = column
    }

    var isTypename: Bool { name == "__typename" }

    func arg(_ name: String) -> ArgValue? { args[name].flatMap { $0.isNull ? nil : $0 } }

    /// The child selection for a concrete runtime type.
    func selection(for type: String) -> [CField] { childrenByType.isEmpty ? children : (childrenByType[type] ?? []) }

    /// The first child named `name` (through `edges { node }` for connections).
    func child(_ name: String) -> CField? { children.first { $0.name == name } }
}

/// Checks selections against the schema and builds `CField` trees; collects every error.
struct SelectionCompiler {
    let version: Int
    /// The real schema (`--schema`): fields the built-in schema lacks come from it (already validated).
    let sdl: SDLSchema?
    var errors: [GQLError] = []
    /// Deprecated fields the selection used, as `Type.field`.
    var deprecatedUsed: [String] = []

    init(version: Int, sdl: SDLSchema? = nil) {
        self.version = version
        self.sdl = sdl
    }

    /// The concrete types of an abstract type (`Node`: the modelled node types), nil if `type` is concrete.
    func possibleTypes(_ type: String) -> [String]? {
        if type == "Node" { return Schema.nodeTypes.sorted() }
        if let builtIn = Schema.abstractTypes[type] { return builtIn }
        return sdl?.possibleTypes(of: type)
    }

    func typeExists(_ type: String) -> Bool { Schema.types[type] != nil || Schema.abstractTypes[type] != nil || sdl?.hasType(type) == true }

    static let typenameDef = FieldDef(name: "__typename", kind: .scalar, type: "String")

    mutating func compile(_ selections: [RawSelection], on type: String, path: [String]) -> [CField] {
        var fields: [RawField] = []
        collect(selections, on: type, into: &fields)
        var out: [CField] = []
        var seen: [String: Int] = [:]
        for f in fields {
            let key = f.alias ?? f.name
            if let existing = seen[key] {
                // Same response key twice: merge sub-selections (GraphQL field merging).
                let old = out[existing]
                if old.name == f.name, f.hasSelectionSet, let def = old.def as FieldDef? {
                    let merged = compileField(
                        RawField(
                            alias: f.alias, name: f.name, args: f.args, selections: [], hasSelectionSet: true, line: old.line,
                            column: old.column), def: def, on: type, path: path + [key], extra: f.selections, previous: old)
                    out[existing] = merged
                }
                continue
            }
            if f.name == "__typename" {
                seen[key] = out.count
                out.append(
                    CField(
                        key: key, name: f.name, def: Self.typenameDef, args: [:], children: [], childrenByType: [:], line: f.line,
                        column: f.column))
                continue
            }
            guard var def = Schema.field(f.name, on: type, version: version) ?? sdl?.fieldDef(f.name, on: type) else {
                errors.append(
                    GQLError(
                        message: "Field '\(f.name)' doesn't exist on type '\(type)'",
                        locations: [.init(line: f.line, column: f.column)], path: path + [key],
                        extensions: [("code", "undefinedField"), ("typeName", type), ("fieldName", f.name)]))
                continue
            }
            if let sdl, !def.unmodelled, let real = sdl.fieldDef(f.name, on: type) {
                // Modelled, but where the simulator writes no value, the schema's nullability decides.
                def.nullable = real.nullable
                def.leafDefault = real.leafDefault
            }
            for (a, _) in f.args
            where !def.args.contains(a) || (f.name == "bulkOperationRunQuery" && a == "groupObjects" && version < 202507) {
                errors.append(
                    GQLError(
                        message: "Field '\(f.name)' doesn't accept argument '\(a)'",
                        locations: [.init(line: f.line, column: f.column)], path: path + [key, a],
                        extensions: [("code", "argumentNotAccepted"), ("name", f.name), ("typeName", "Field"), ("argumentName", a)]))
            }
            let missing = def.required.filter { r in !f.args.contains { $0.0 == r && $0.1 != .null } }.sorted()
            if !missing.isEmpty {
                errors.append(
                    GQLError(
                        message: "Field '\(f.name)' is missing required arguments: \(missing.joined(separator: ", "))",
                        locations: [.init(line: f.line, column: f.column)], path: path + [key],
                        extensions: [
                            ("code", "missingRequiredArguments"), ("className", "Field"), ("name", f.name),
                            ("arguments", missing.joined(separator: ", ")),
                        ]))
            }
            if let since = Schema.deprecated["\(type).\(f.name)"], version >= since, !deprecatedUsed.contains("\(type).\(f.name)") {
                deprecatedUsed.append("\(type).\(f.name)")
            }
            seen[key] = out.count
            out.append(compileField(f, def: def, on: type, path: path + [key], extra: [], previous: nil))
        }
        return out
    }

    private mutating func compileField(
        _ f: RawField, def: FieldDef, on type: String, path: [String], extra: [RawSelection], previous: CField?
    ) -> CField {
        var args: [String: ArgValue] = [:]
        for (k, v) in f.args { args[k] = v }
        if let previous { args = previous.args }
        let key = f.alias ?? f.name
        let isLeaf = def.kind == .scalar || def.kind == .scalarList
        if isLeaf && f.hasSelectionSet {
            errors.append(
                GQLError(
                    message:
                        "Selections can't be made on scalars (field '\(f.name)' returns \(def.type.isEmpty ? "String" : def.type) but has selections [\(f.selections.compactMap { if case .field(let x) = $0 { return x.name }; return nil }.joined(separator: ", "))])",
                    locations: [.init(line: f.line, column: f.column)], path: path,
                    extensions: [("code", "selectionMismatch"), ("nodeName", "field '\(f.name)'"), ("typeName", def.type)]))
        }
        if !isLeaf && !f.hasSelectionSet && previous == nil {
            let t = Schema.selectionType(of: def)
            errors.append(
                GQLError(
                    message:
                        "Field must have selections (field '\(f.name)' returns \(t) but has no selections. Did you mean '\(f.name) { ... }'?)",
                    locations: [.init(line: f.line, column: f.column)], path: path,
                    extensions: [("code", "selectionMismatch"), ("nodeName", "field '\(f.name)'"), ("typeName", t)]))
        }
        var children: [CField] = []
        var byType: [String: [CField]] = [:]
        if !isLeaf {
            let sels = f.selections + extra
            let t = Schema.selectionType(of: def)
            if let concreteTypes = possibleTypes(t) {
                // Validate fragment conditions and compile one selection per concrete type.
                if sdl == nil { validateConditions(sels, abstract: t, path: path) }
                for concrete in concreteTypes {
                    var sub = SelectionCompiler(version: version, sdl: sdl)
                    let compiled = sub.compileAbstract(sels, abstract: t, concrete: concrete, path: path)
                    byType[concrete] = compiled
                    for e in sub.errors where !errors.contains(e) { errors.append(e) }
                    for d in sub.deprecatedUsed where !deprecatedUsed.contains(d) { deprecatedUsed.append(d) }
                }
                if let previous { for (k, v) in previous.childrenByType { byType[k] = (byType[k] ?? []) + v } }
            } else {
                children = compile(sels, on: t, path: path)
                if let previous { children = previous.children + children.filter { c in !previous.children.contains { $0.key == c.key } } }
            }
        }
        return CField(
            key: key, name: f.name, def: def, args: args, children: children, childrenByType: byType, line: f.line, column: f.column)
    }

    /// Fields that apply to `concrete` from a selection on an abstract type: fields valid on it, plus
    /// fragments on `concrete` (or on another abstract type that `concrete` belongs to).
    private mutating func compileAbstract(_ sels: [RawSelection], abstract: String, concrete: String, path: [String]) -> [CField] {
        var direct: [RawSelection] = []
        var forType: [RawSelection] = []
        for s in sels {
            switch s {
            case .field: direct.append(s)
            case .fragment(let cond, let inner):
                if cond == nil || cond == abstract {
                    direct.append(contentsOf: inner)
                } else if cond == concrete || possibleTypes(cond!)?.contains(concrete) == true {
                    forType.append(contentsOf: inner)
                }
            }
        }
        // Direct fields must exist on the abstract type (unions have none but __typename).
        if Schema.types[abstract] != nil || sdl == nil {
            var abstractCompiler = SelectionCompiler(version: version, sdl: sdl)
            _ = abstractCompiler.compile(direct, on: abstract, path: path)
            errors.append(contentsOf: abstractCompiler.errors)
        }
        return compile(direct + forType, on: concrete, path: path)
    }

    private mutating func validateConditions(_ sels: [RawSelection], abstract: String, path: [String]) {
        for s in sels {
            if case .fragment(let cond?, let inner) = s, cond != abstract {
                if !typeExists(cond) {
                    errors.append(
                        GQLError(
                            message: "No such type \(cond), so it can't be a fragment condition", path: path,
                            extensions: [("code", "undefinedType"), ("typeName", cond)]))
                } else if possibleTypes(abstract)?.contains(cond) != true {
                    errors.append(
                        GQLError(
                            message: "Fragment on \(cond) can't be spread inside \(abstract)", path: path,
                            extensions: [("code", "cannotSpreadFragment")]))
                }
                _ = inner
            }
        }
    }

    /// Flattens fragments that apply to `type` (concrete types only).
    private mutating func collect(_ sels: [RawSelection], on type: String, into out: inout [RawField]) {
        for s in sels {
            switch s {
            case .field(let f): out.append(f)
            case .fragment(let cond, let inner):
                if cond == nil || cond == type || possibleTypes(cond!)?.contains(type) == true {
                    collect(inner, on: type, into: &out)
                } else if let cond, !typeExists(cond) {
                    errors.append(
                        GQLError(
                            message: "No such type \(cond), so it can't be a fragment condition",
                            extensions: [("code", "undefinedType"), ("typeName", cond)]))
                }
            }
        }
    }
}
