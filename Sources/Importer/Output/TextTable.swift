import ShopifyAdmin

/// A plain-text table for terminals: a header row and left-aligned columns (numbers right-aligned),
/// separated by two spaces. Cells are single-line and safe to print: control characters (newlines
/// included) and bidi overrides are escaped visibly (`TerminalText`), and long cells are cut with `…`.
public struct TextTable: Sendable {
    public var headers: [String]
    public var rows: [[String]] = []
    /// Columns aligned to the right (amounts, counts).
    public var rightAligned: Set<Int> = []
    /// The widest a cell may be.
    public var maxCellWidth: Int = 60

    public init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    public mutating func append(_ row: [String?]) {
        rows.append(row.map { $0 ?? "-" })
    }

    /// The table as lines, each prefixed with `indent`.
    public func render(indent: String = "") -> String {
        let all = [headers] + rows
        let cleaned = all.map { $0.map { Self.clean($0, max: maxCellWidth) } }
        var widths = Array(repeating: 0, count: headers.count)
        for row in cleaned {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in cleaned {
            var line = indent
            for i in 0..<widths.count {
                let cell = i < row.count ? row[i] : ""
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                let isLast = i == widths.count - 1
                line += rightAligned.contains(i) ? pad + cell : (isLast ? cell : cell + pad)
                if !isLast { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// `text` on one line with control characters and bidi overrides escaped, cut to `max` characters.
    public static func clean(_ text: String, max: Int) -> String {
        var s = TerminalText.escape(text)
        if s.count > max { s = String(s.prefix(max - 1)) + "…" }
        return s
    }
}

/// Short human forms for tables.
public enum HumanFormat {
    /// `42s`, `7m`, `3h`, `5d`.
    public static func age(seconds: Int64) -> String {
        if seconds < 0 { return "0s" }
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        if seconds < 172_800 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }

    /// `512 B`, `1.5 KB`, `20.3 MB`, `1.2 GB` (powers of 1000).
    public static func bytes(_ n: Int64) -> String {
        if n < 1000 { return "\(n) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = -1
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
