import BulkQueries
import Foundation
import Importer
import Loader
import Migrations
import ServiceDeskServer
import ShopifyAdmin

// What `--json` prints, one type per command (docs/json-output.md lists them; `JSONOutputTests`
// checks the two against each other). Keys are spelled out in `CodingKeys`, never derived by a key
// strategy: a strategy would also rewrite the keys of the maps inside (table names, GraphQL type
// names, custom field names). A value that can be absent is `null`, never a missing key.

/// Prints a report as pretty JSON on standard output: keys sorted, slashes as they are.
func printJSON(_ value: some Encodable) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return }
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// An optional value that is written as `null` when absent (synthesised `Encodable` leaves the key out).
struct Nullable<Value: Encodable>: Encodable {
    var value: Value?
    init(_ value: Value?) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// `shopbulk shop add|edit|list --json`: a shop's settings and secret references, never secrets.
struct ShopJSON: Encodable {
    var name: String
    var store: String
    var authMethod: String
    var tokenRef: Nullable<String>
    var clientId: Nullable<String>
    var clientSecretRef: Nullable<String>
    var enabled: Bool
    var importLineItems: Bool
    var customersAs: String
    var apiVersion: String
    var apiBase: Nullable<String>

    init(_ shop: Shop) {
        name = shop.name
        store = shop.storeDomain
        authMethod = shop.authMethod.rawValue
        tokenRef = Nullable(shop.tokenRef.map(SecretReference.displayText))
        clientId = Nullable(shop.clientID)
        clientSecretRef = Nullable(shop.clientSecretRef.map(SecretReference.displayText))
        enabled = shop.enabled
        importLineItems = shop.importLineItems
        customersAs = shop.customersAs.rawValue
        apiVersion = shop.apiVersion
        apiBase = Nullable(shop.apiBase)
    }

    enum CodingKeys: String, CodingKey {
        case name, store, enabled
        case authMethod = "auth_method", tokenRef = "token_ref", clientId = "client_id", clientSecretRef = "client_secret_ref"
        case importLineItems = "import_line_items", customersAs = "customers_as", apiVersion = "api_version", apiBase = "api_base"
    }
}

/// `shopbulk shop add --json`: the shop, and what the connection check found.
struct ShopAddReport: Encodable {
    var shop: ShopJSON
    var verified: Bool
    var grantedScopes: [String]
    var warnings: [String]

    enum CodingKeys: String, CodingKey { case verified, grantedScopes = "granted_scopes", warnings }
    func encode(to encoder: any Encoder) throws {
        try shop.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verified, forKey: .verified)
        try c.encode(grantedScopes, forKey: .grantedScopes)
        try c.encode(warnings, forKey: .warnings)
    }
}

/// `shopbulk shop edit --json`: the shop as saved, and which settings changed.
struct ShopEditReport: Encodable {
    var shop: ShopJSON
    var changed: [String]
    var verified: Bool

    enum CodingKeys: String, CodingKey { case changed, verified }
    func encode(to encoder: any Encoder) throws {
        try shop.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(changed, forKey: .changed)
        try c.encode(verified, forKey: .verified)
    }
}

/// `shopbulk shop list --json`: one per shop, with its query files and contact field mappings.
struct ShopListEntry: Encodable {
    var shop: ShopJSON
    /// Resource → query file path.
    var queryFiles: [String: String]
    /// Contact field → source.
    var contactFields: [String: String]

    enum CodingKeys: String, CodingKey { case queryFiles = "query_files", contactFields = "contact_fields" }
    func encode(to encoder: any Encoder) throws {
        try shop.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(queryFiles, forKey: .queryFiles)
        try c.encode(contactFields, forKey: .contactFields)
    }
}

/// `shopbulk shop enable|disable --json`.
struct ShopEnabledReport: Encodable {
    var name: String
    var enabled: Bool
    /// False when the shop already was so.
    var changed: Bool
}

/// `shopbulk shop remove --json`: what was deleted with the shop.
struct ShopRemoveReport: Encodable {
    var name: String
    var removed: Bool
    var customers: Int
    var orders: Int
    var orderLines: Int
    var otherRecords: Int
    var runs: Int

    enum CodingKeys: String, CodingKey {
        case name, removed, customers, orders, runs
        case orderLines = "order_lines", otherRecords = "other_records"
    }
}

/// `shopbulk import --json`: one per shop imported.
struct ImportJSON: Encodable {
    var shop: String
    var mode: String
    var operationsSubmitted: Int
    var windowsLoaded: Int
    var windowsSplit: Int
    var retries: Int
    /// Table → rows inserted or updated.
    var rows: [String: Int]
    var rowsLoaded: Int
    var rejected: Int
    /// Table → rows marked deleted (reconcile).
    var markedDeleted: [String: Int]
    var bytes: Int64
    var seconds: Double
    var rowsPerSecond: Int

    init(_ r: ImportReport) {
        shop = r.shop
        mode = r.mode.rawValue
        operationsSubmitted = r.operationsSubmitted
        windowsLoaded = r.windowsLoaded
        windowsSplit = r.windowsSplit
        retries = r.retries
        rows = r.rows
        rowsLoaded = r.rowsLoaded
        rejected = r.rejected
        markedDeleted = r.markedDeleted
        bytes = r.bytes
        seconds = r.seconds
        rowsPerSecond = r.seconds > 0 ? Int(Double(r.rowsLoaded) / r.seconds) : 0
    }

    enum CodingKeys: String, CodingKey {
        case shop, mode, retries, rows, rejected, bytes, seconds
        case operationsSubmitted = "operations_submitted", windowsLoaded = "windows_loaded", windowsSplit = "windows_split"
        case rowsLoaded = "rows_loaded", markedDeleted = "marked_deleted", rowsPerSecond = "rows_per_second"
    }
}

/// `shopbulk load --json`.
struct LoadJSON: Encodable {
    var runId: Int64
    var lines: Int
    var bytes: Int
    var rows: [String: Int]
    var otherRows: Int
    /// GraphQL type → child lines kept in `bulk_records` without their parent.
    var orphans: [String: Int]
    var removedChildren: [String: Int]
    var rejected: Int
    var seconds: Double
    var rowsPerSecond: Int
    var highWaterUpdatedAt: Nullable<String>

    init(_ s: LoadSummary, runID: Int64) {
        runId = runID
        lines = s.lines
        bytes = s.bytes
        rows = s.rows
        otherRows = s.otherRows
        orphans = s.orphans
        removedChildren = s.removedChildren
        rejected = s.rejected
        seconds = s.seconds
        rowsPerSecond = s.seconds > 0 ? Int(Double(s.rowsLoaded) / s.seconds) : 0
        highWaterUpdatedAt = Nullable(s.highWaterUpdatedAt)
    }

    enum CodingKeys: String, CodingKey {
        case lines, bytes, rows, orphans, rejected, seconds
        case runId = "run_id", otherRows = "other_rows", removedChildren = "removed_children", rowsPerSecond = "rows_per_second"
        case highWaterUpdatedAt = "high_water_updated_at"
    }
}

/// `shopbulk run --json`: a saved query's run.
struct RunJSON: Encodable {
    var runId: Int64
    var operation: String
    var lines: Int
    var bytes: Int64
    var rows: Int
    var seconds: Double

    init(_ r: SavedQueryReport) {
        runId = r.runID
        operation = r.operation
        lines = r.lines
        bytes = r.bytes
        rows = r.rows
        seconds = r.seconds
    }

    enum CodingKeys: String, CodingKey { case operation, lines, bytes, rows, seconds, runId = "run_id" }
}

/// `shopbulk migrate --json`: the migrations applied now.
struct MigrateReport: Encodable {
    var applied: [String]
}

/// `shopbulk migrate --status --json`: migration files by state.
struct MigrateStatusReport: Encodable {
    var applied: [String]
    var pending: [String]
    /// Files edited after they were applied.
    var changed: [String]
    /// Versions in the database without a file (`VERSION_name`).
    var unknown: [String]

    init(_ plan: MigrationPlan) {
        applied = plan.applied.map(\.fileName)
        pending = plan.pending.map(\.fileName)
        changed = plan.changed.map(\.file.fileName)
        unknown = plan.unknown.map { "\($0.version)_\($0.name)" }
    }
}

/// `shopbulk cancel --json`: the GIDs of the operations canceled.
struct CancelReport: Encodable {
    var canceled: [String]
}

/// `shopbulk apikey create --json`: the key, printed this once.
struct APIKeyCreateReport: Encodable {
    var name: String
    var key: String
    /// The shops the key may read, `["*"]` for all.
    var shops: [String]
}

/// `shopbulk apikey list --json`: one per key, revoked ones included; never the key itself.
struct APIKeyListEntry: Encodable {
    var name: String
    /// The shops the key may read, `["*"]` for all.
    var shops: [String]
    var createdAt: String
    var revokedAt: Nullable<String>

    init(_ record: APIKeyRecord) {
        name = record.name
        shops = record.shops ?? ["*"]
        createdAt = record.createdAt
        revokedAt = Nullable(record.revokedAt)
    }

    enum CodingKeys: String, CodingKey { case name, shops, createdAt = "created_at", revokedAt = "revoked_at" }
}

/// `shopbulk schema pull --json`.
struct SchemaPullReport: Encodable {
    var apiVersion: String
    var types: Int
    var sha256: String
    var pulledFrom: String

    enum CodingKeys: String, CodingKey { case types, sha256, apiVersion = "api_version", pulledFrom = "pulled_from" }
}

/// `shopbulk schema list --json`: one per cached schema.
struct SchemaListEntry: Encodable {
    var apiVersion: String
    var types: Int
    var sha256: String
    var pulledFrom: Nullable<String>
    var pulledAt: String

    enum CodingKeys: String, CodingKey {
        case types, sha256, apiVersion = "api_version", pulledFrom = "pulled_from", pulledAt = "pulled_at"
    }
}

/// `shopbulk worker --json`: what the worker did before it stopped.
struct WorkerReport: Encodable {
    /// `HOST:PID`.
    var worker: String
    /// claims, ok, failed, interrupted, reconnects, …
    var counts: [String: Int]
}

/// `shopbulk demo --json`.
struct DemoReport: Encodable {
    struct Full: Encodable {
        var rows: Int
        var seconds: Double
        var rowsPerSecond: Int
        var operations: Int
        enum CodingKeys: String, CodingKey { case rows, seconds, operations, rowsPerSecond = "rows_per_second" }
    }
    struct Delta: Encodable {
        var rows: Int
        var seconds: Double
        var operations: Int
    }
    struct Tables: Encodable {
        var customers: Int
        var orders: Int
        var orderLines: Int
        enum CodingKeys: String, CodingKey { case customers, orders, orderLines = "order_lines" }
    }
    var full: Full
    var delta: Delta
    var markedDeleted: [String: Int]
    var tables: Tables

    enum CodingKeys: String, CodingKey { case full, delta, tables, markedDeleted = "marked_deleted" }
}

/// A bulk-rule finding in `shopbulk query check --json`.
struct ViolationJSON: Encodable {
    var rule: String
    var severity: String
    var line: Int
    var column: Int
    var message: String

    init(_ v: BulkRuleViolation) {
        rule = v.rule.rawValue
        severity = v.severity.rawValue
        line = v.line
        column = v.column
        message = v.message
    }
}

/// `shopbulk query check --json`. When `ok` is false, `errors` says why and the fields that need a
/// prepared query (`mapping` … `warnings`) are null.
struct QueryCheckReport: Encodable {
    struct Section: Encodable {
        struct Column: Encodable {
            var path: String
            var column: String
        }
        var type: String
        var table: String
        var parentType: Nullable<String>
        var parentColumn: Nullable<String>
        var columns: [Column]
        enum CodingKeys: String, CodingKey { case type, table, columns, parentType = "parent_type", parentColumn = "parent_column" }
    }
    var file: String
    var name: Nullable<String>
    var hash: Nullable<String>
    var ok: Bool
    var errors: [String]
    var violations: [ViolationJSON]
    var mapping: Nullable<[Section]>
    var schema: Nullable<String>
    var apiVersion: Nullable<String>
    var rootField: Nullable<String>
    var rootType: Nullable<String>
    var types: Nullable<[String]>
    var query: Nullable<String>
    var mutation: Nullable<String>
    var warnings: Nullable<[ViolationJSON]>

    enum CodingKeys: String, CodingKey {
        case file, name, hash, ok, errors, violations, mapping, schema, types, query, mutation, warnings
        case apiVersion = "api_version", rootField = "root_field", rootType = "root_type"
    }

    /// A failed check: the file as given, the problems.
    static func failed(file: String, queryFile: QueryFile?, violations: [BulkRuleViolation], errors: [String]) -> QueryCheckReport {
        QueryCheckReport(
            file: queryFile?.path ?? file, name: Nullable(queryFile?.name), hash: Nullable(queryFile?.hash), ok: false, errors: errors,
            violations: violations.map(ViolationJSON.init), mapping: Nullable(nil), schema: Nullable(nil), apiVersion: Nullable(nil),
            rootField: Nullable(nil), rootType: Nullable(nil), types: Nullable(nil), query: Nullable(nil), mutation: Nullable(nil),
            warnings: Nullable(nil))
    }

    /// A passed check with the query as it would be submitted.
    static func passed(_ file: QueryFile, violations: [BulkRuleViolation], prepared: PreparedQuery) -> QueryCheckReport {
        let sections = file.mapping.sections.map { s in
            Section(
                type: s.type, table: s.table, parentType: Nullable(s.parentType), parentColumn: Nullable(s.parentColumn),
                columns: s.columns.map { Section.Column(path: $0.path, column: $0.column) })
        }
        return QueryCheckReport(
            file: file.path, name: Nullable(file.name), hash: Nullable(file.hash), ok: true, errors: [],
            violations: violations.map(ViolationJSON.init), mapping: Nullable(sections), schema: Nullable(file.checks.schema?.label),
            apiVersion: Nullable(file.checks.apiVersion.map { "\($0)" }), rootField: Nullable(prepared.rootField),
            rootType: Nullable(prepared.rootType), types: Nullable(prepared.types), query: Nullable(prepared.text),
            mutation: Nullable(PreparedQuery.runMutation), warnings: Nullable(prepared.warnings.map(ViolationJSON.init)))
    }
}
