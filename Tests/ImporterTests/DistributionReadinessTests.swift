import Foundation
import Importer
import Migrations
import Postgres
import TestSupport
import Testing

/// Finds joins of shop-data tables whose condition has no `shop_id` equality, in SQL text (Swift
/// sources and migrations). A join counts when its target or the table before it is a shop-data
/// table or view named literally; `JOIN LATERAL (…)` must correlate on `shop_id` inside.
enum JoinScanner {
    struct Finding: CustomStringConvertible {
        var file: String
        var text: String
        var description: String { "\(file): \(text)" }
    }

    static let joinPattern = try! NSRegularExpression(
        pattern:
            #"\bJOIN\s+(LATERAL\s*\(|[A-Za-z_][A-Za-z0-9_.]*|\\\([^)]*\))\s*(?:AS\s+)?([A-Za-z_][A-Za-z0-9_]*)?\s*(?:ON|USING)?"#,
        options: [.caseInsensitive])
    static let fromPattern = try! NSRegularExpression(
        pattern: #"\b(?:FROM|UPDATE|USING)\s+([A-Za-z_][A-Za-z0-9_.]*)"#, options: [.caseInsensitive])
    static let conditionEnd = try! NSRegularExpression(
        pattern: #"\b(?:JOIN|WHERE|GROUP|ORDER|LIMIT|LEFT|RIGHT|INNER|FULL|CROSS|UNION|RETURNING)\b|;|\"\"\"|\)\s*[A-Za-z_]+\s+ON\b"#,
        options: [.caseInsensitive])
    static let shopIdEquality = try! NSRegularExpression(pattern: #"shop_id\s*=|=\s*[A-Za-z_]*\.?shop_id"#, options: [])

    static func scan(_ source: String, file: String, shopData: Set<String>) -> [Finding] {
        // Comments are prose, not SQL.
        let text = source.split(separator: "\n", omittingEmptySubsequences: false).filter {
            let t = $0.trimmingCharacters(in: .whitespaces)
            return !t.hasPrefix("//") && !t.hasPrefix("--")
        }.joined(separator: "\n")
        let ns = text as NSString
        var findings: [Finding] = []
        for match in joinPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let target = ns.substring(with: match.range(at: 1))
            let before = ns.substring(to: match.range.location)
            let left = fromPattern.matches(in: before, range: NSRange(location: 0, length: (before as NSString).length)).last.map {
                (before as NSString).substring(with: $0.range(at: 1)).lowercased()
            }
            let rest = ns.substring(from: match.range.location + match.range.length)
            let excerpt = ns.substring(with: NSRange(location: match.range.location, length: min(160, ns.length - match.range.location)))
            if target.uppercased().hasPrefix("LATERAL") {
                // The correlation is inside the parentheses.
                var depth = 1
                var body = ""
                for c in rest {
                    if c == "(" { depth += 1 }
                    if c == ")" { depth -= 1 }
                    if depth == 0 { break }
                    body.append(c)
                }
                let involved = left.map(shopData.contains) ?? false
                if involved && !matches(shopIdEquality, body) { findings.append(Finding(file: file, text: excerpt)) }
                continue
            }
            let involved = shopData.contains(target.lowercased()) || (left.map(shopData.contains) ?? false)
            guard involved else { continue }
            let restNS = rest as NSString
            let end = conditionEnd.firstMatch(in: rest, range: NSRange(location: 0, length: restNS.length))?.range.location ?? restNS.length
            let condition = restNS.substring(to: end)
            if !matches(shopIdEquality, condition) { findings.append(Finding(file: file, text: excerpt)) }
        }
        return findings
    }

    static func matches(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    /// Every `.swift` file under `Sources/` and every migration.
    static func files() throws -> [String] {
        let root = TestEnvironment.packageRoot
        var out: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: root + "/Sources")
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".swift") { out.append(root + "/Sources/" + path) }
        }
        for m in try FileManager.default.contentsOfDirectory(atPath: root + "/migrations") where m.hasSuffix(".sql") {
            out.append(root + "/migrations/" + m)
        }
        return out.sorted()
    }
}

/// The schema can be distributed by `shop_id` (Citus) unchanged: every key of a shop-data table
/// begins with `shop_id`, and no query joins shop-data tables without `shop_id` equality.
@Suite("Ready to distribute by shop_id", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct DistributionReadinessTests {
    /// Tables with a `shop_id` column (all but `shops`, the reference table).
    static func shopDataTables(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'shops'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'shop_id' AND NOT a.attisdropped)
            ORDER BY 1
            """
        ).compactMap { $0[0].string }
    }

    @Test("every primary key, unique index and foreign key of a shop-data table begins with shop_id")
    func catalogKeys() throws {
        let db = try TestDatabase()
        let connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        let tables = try Self.shopDataTables(connection)
        for expected in ["customers", "orders", "order_lines", "sync_runs", "sync_state", "rejected_records", "fleet_claims"] {
            #expect(tables.contains(expected), "\(expected) is not seen as shop data: \(tables)")
        }
        // Tables without shop_id: only what Citus can make reference tables (no shop's data in them).
        let others = try connection.query(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> ALL($1::text[]) ORDER BY 1
            """, [tables]
        ).compactMap { $0[0].string }
        #expect(Set(others).isSubset(of: ["shops", "admin_schemas", "schema_migrations", "api_keys"]), "tables without shop_id: \(others)")

        let primaryKeys = try connection.query(
            """
            SELECT c.relname, (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = i.indkey[0]) AS first
            FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
            WHERE c.relname = ANY($1::text[])
            """, [tables])
        #expect(primaryKeys.rows.count == tables.count, "a shop-data table has no primary key")
        for row in primaryKeys { #expect(row["first"].string == "shop_id", "primary key of \(row["relname"].string ?? "")") }

        let uniques = try connection.query(
            """
            SELECT ic.relname AS index, c.relname AS table,
                   (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = i.indkey[0]) AS first
            FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid AND i.indisunique JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE c.relname = ANY($1::text[])
            """, [tables])
        #expect(uniques.rows.count >= tables.count)
        for row in uniques {
            #expect(row["first"].string == "shop_id", "unique index \(row["index"].string ?? "") on \(row["table"].string ?? "")")
        }

        // Foreign keys from and to shop-data tables: the first column on both sides is shop_id.
        let foreignKeys = try connection.query(
            """
            SELECT con.conname, c.relname AS from_table, r.relname AS to_table,
                   (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.conrelid AND a.attnum = con.conkey[1]) AS from_first,
                   (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = con.confrelid AND a.attnum = con.confkey[1]) AS to_first
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
            WHERE con.contype = 'f' AND (c.relname = ANY($1::text[]) OR r.relname = ANY($1::text[]))
            """, [tables])
        #expect(foreignKeys.rows.count >= tables.count)
        for row in foreignKeys {
            let name = row["conname"].string ?? ""
            let to = row["to_table"].string ?? ""
            #expect(row["from_first"].string == "shop_id", "foreign key \(name)")
            // To the reference table `shops` the key is its id; to a shop-data table, shop_id first.
            #expect(to == "shops" ? row["to_first"].string == "id" : row["to_first"].string == "shop_id", "foreign key \(name) → \(to)")
        }
    }

    @Test("no SQL in Sources/ or migrations/ joins shop-data tables without shop_id equality")
    func joinsCarryShopID() throws {
        let db = try TestDatabase()
        let connection = try db.connect()
        try Migrator(directory: TestEnvironment.packageRoot + "/migrations").apply(on: connection)
        let views = try connection.query("SELECT viewname FROM pg_views WHERE schemaname = 'public'").compactMap { $0[0].string }
        let shopData = Set(try Self.shopDataTables(connection) + views)
        // The scanner sees a bad join and passes a good one (it is not vacuous).
        #expect(
            JoinScanner.scan("SELECT * FROM orders o JOIN order_lines l ON l.order_id = o.id", file: "probe", shopData: shopData).count == 1
        )
        #expect(
            JoinScanner.scan(
                "SELECT * FROM orders o JOIN order_lines l ON l.shop_id = o.shop_id AND l.order_id = o.id", file: "probe",
                shopData: shopData
            ).isEmpty)
        let files = try JoinScanner.files()
        #expect(files.count > 50)
        var joins = 0
        var findings: [JoinScanner.Finding] = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            joins += JoinScanner.joinPattern.numberOfMatches(in: text, range: NSRange(location: 0, length: (text as NSString).length))
            findings += JoinScanner.scan(text, file: String(file.dropFirst(TestEnvironment.packageRoot.count + 1)), shopData: shopData)
        }
        #expect(joins >= 10, "only \(joins) joins found: the scan does not see the code")
        #expect(findings.isEmpty, "joins without shop_id equality:\n\(findings.map(\.description).joined(separator: "\n"))")
    }
}
