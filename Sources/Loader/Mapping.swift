import Foundation

/// How the lines of one bulk result become rows: one section per node type.
///
/// Written as `#!` comment lines at the top of a query file:
///
/// ```
/// #! Order -> orders
/// #!   customer.id -> customer_id
/// #! LineItem -> order_lines, child of Order via order_id
/// #!   sku -> sku
/// ```
///
/// `id` always fills the `id` (bigint, from the GID) and `gid` columns; `__parentId` fills a child's
/// parent column; selected fields no line maps go to the table's `extra` jsonb column.
public struct Mapping: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        /// Dot-separated JSON path inside the node (`totalPriceSet.shopMoney.amount`).
        public var path: String
        public var column: String
        /// Where the line was (1-based line of the query file), for error messages.
        public var line: Int
    }

    public struct Section: Sendable, Equatable {
        /// The node type, as it appears in GIDs and `__typename` (`Order`).
        public var type: String
        public var table: String
        /// For a child type: the parent type and the column that receives the parent's id.
        public var parentType: String?
        public var parentColumn: String?
        public var columns: [Column]
        public var line: Int
        /// For a section typed by an interface (`DiscountApplication`): the concrete types that may
        /// appear as its lines' `__typename`. The query side fills it from the schema it knows.
        public var memberTypes: [String] = []
    }

    public var sections: [Section]

    public func section(for type: String) -> Section? { sections.first { $0.type == type } }

    /// Parses the `#!` block of a query file. Errors name the file and line.
    public static func parse(_ text: String, file: String) throws(MappingError) -> Mapping {
        var sections: [Section] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = String(rawLine).trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
            guard line.hasPrefix("#!") else { continue }
            let body = String(line.dropFirst(2))
            let content = body.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            guard content.contains("->") else {
                throw MappingError(
                    file: file, line: lineNumber,
                    message:
                        "cannot read mapping line '\(content)': expected 'Type -> table' or an indented 'path -> column' (use '#' for comments)"
                )
            }
            // "#! Type -> table" has one space after "#!"; field lines are indented further.
            let indented = body.prefix(while: { $0 == " " || $0 == "\t" }).count > 1
            let parts = content.components(separatedBy: "->")
            guard parts.count == 2 else {
                throw MappingError(file: file, line: lineNumber, message: "a mapping line has exactly one '->': '\(content)'")
            }
            let left = parts[0].trimmingCharacters(in: .whitespaces)
            let right = parts[1].trimmingCharacters(in: .whitespaces)
            if indented {
                guard !sections.isEmpty else {
                    throw MappingError(file: file, line: lineNumber, message: "'\(content)' maps a field before any 'Type -> table' line")
                }
                guard isPath(left) else {
                    throw MappingError(file: file, line: lineNumber, message: "'\(left)' is not a JSON path (names separated by dots)")
                }
                guard isIdentifier(right) else {
                    throw MappingError(
                        file: file, line: lineNumber, message: "'\(right)' is not a column name (lower-case letters, digits, _)")
                }
                if left == "id" || left == "__parentId" {
                    throw MappingError(file: file, line: lineNumber, message: "'\(left)' is mapped automatically; remove this line")
                }
                var section = sections.removeLast()
                if let twin = section.columns.first(where: { $0.column == right }) {
                    throw MappingError(
                        file: file, line: lineNumber, message: "column \(right) is already filled from \(twin.path) (line \(twin.line))")
                }
                if let twin = section.columns.first(where: { $0.path == left }) {
                    throw MappingError(
                        file: file, line: lineNumber, message: "path \(left) is already mapped to \(twin.column) (line \(twin.line))")
                }
                if ["id", "gid", "shop_id", "extra", "imported_at", "deleted_at", section.parentColumn].contains(right) {
                    throw MappingError(
                        file: file, line: lineNumber, message: "column \(right) is filled by shopbulk itself; map to another column")
                }
                section.columns.append(Column(path: left, column: right, line: lineNumber))
                sections.append(section)
            } else {
                guard isTypeName(left) else {
                    throw MappingError(file: file, line: lineNumber, message: "'\(left)' is not a GraphQL type name")
                }
                // "table" or "table, child of Parent via column"
                let pieces = right.components(separatedBy: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard isIdentifier(pieces[0]) else {
                    throw MappingError(file: file, line: lineNumber, message: "'\(pieces[0])' is not a table name")
                }
                var section = Section(type: left, table: pieces[0], parentType: nil, parentColumn: nil, columns: [], line: lineNumber)
                if pieces.count == 2 {
                    let words = pieces[1].split(separator: " ").map(String.init)
                    guard words.count == 5, words[0] == "child", words[1] == "of", isTypeName(words[2]), words[3] == "via",
                        isIdentifier(words[4])
                    else {
                        throw MappingError(
                            file: file, line: lineNumber,
                            message: "expected ', child of ParentType via parent_column' after the table, got '\(pieces[1])'")
                    }
                    section.parentType = words[2]
                    section.parentColumn = words[4]
                } else if pieces.count > 2 {
                    throw MappingError(file: file, line: lineNumber, message: "too many commas in '\(content)'")
                }
                if sections.contains(where: { $0.type == left }) {
                    throw MappingError(file: file, line: lineNumber, message: "type \(left) is mapped twice")
                }
                sections.append(section)
            }
        }
        for section in sections {
            if let parent = section.parentType, !sections.contains(where: { $0.type == parent }) {
                throw MappingError(
                    file: file, line: section.line, message: "\(section.type) is a child of \(parent), which has no 'Type -> table' line")
            }
        }
        return Mapping(sections: sections)
    }

    public static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) } && s.count <= 63
    }

    static func isTypeName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("A"..."Z").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    public static func isPath(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty
            && parts.allSatisfy { part in
                guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
                return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
            }
    }
}

/// A problem with a query file's mapping (its `#!` lines) or with how the mapping meets the tables;
/// names the file and, where known, the line.
public struct MappingError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
