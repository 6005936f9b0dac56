extension JSONWriter {
    /// A field the simulator has no data for: `null` where the schema allows it, else a type-correct
    /// placeholder (an empty list or connection, an object of placeholders, the first enum value, `""`,
    /// `0`, `false` …), so that any valid query gets an answer of the right shape.
    mutating func unmodelled(_ f: CField) {
        if f.isTypename {
            string(Schema.selectionType(of: f.def))
            return
        }
        if f.def.nullable {
            null()
            return
        }
        switch f.def.kind {
        case .scalar:
            if let placeholder = f.def.leafDefault { raw(placeholder) } else { null() }
        case .scalarList, .objectList:
            beginArray()
            endArray()
        case .object, .connection:
            let type = Schema.selectionType(of: f.def)
            let children = f.childrenByType.isEmpty ? f.children : (f.childrenByType.sorted { $0.key < $1.key }.first?.value ?? [])
            let concrete = f.childrenByType.isEmpty ? type : (f.childrenByType.keys.sorted().first ?? type)
            beginObject()
            for c in children {
                key(c.key)
                if c.isTypename { string(concrete) } else { unmodelled(c) }
            }
            endObject()
        }
    }
}
