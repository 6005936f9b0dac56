import ArgumentParser
import BulkQueries
import Foundation
import Importer
import ShopifyAdmin

/// `shopbulk query check FILE|NAME`: the bulk rules, the mapping, and what would be submitted.
struct QueryCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a query file against the bulk rules and its mapping, and print what would be submitted.",
        discussion: """
            Parses the query with the GraphQL parser and checks the bulk-operation rules (one top-level \
            connection, at most 5 connections, at most 2 levels of nesting, no top-level node/nodes, no \
            connection inside a list, a node with a nested connection selects id unaliased), the {{templates}}, and that the \
            #! mapping agrees with what the query selects. With --schema FILE (an Admin API SDL file) or \
            --shop SHOP (the schema `shopbulk schema pull SHOP` cached for the shop's API version), every \
            field, argument, enum value and input type is validated against the real schema too, with \
            "did you mean" suggestions and warnings for deprecated fields; --shop or --api-version also \
            checks the fields the API version does not have yet. Every problem is printed as \
            file:line:column: error: message and the exit status is 1. Otherwise prints the mapping, the \
            query exactly as it would be submitted for the given window, and the mutation that submits \
            it; exit status 0. No network is used; only --shop reads the database. See docs/query-files.md.
            """
    )

    @Argument(help: "A query file (path ending in .graphql), or the name of one in the queries folder (orders, customers).")
    var file: String

    @Option(name: .customLong("window-field"), help: "The search field of the window: updated_at or created_at.")
    var windowField: String = "updated_at"

    @Option(help: "Window start, inclusive: 2025-06-01 or 2025-06-01T00:00:00Z (UTC unless an offset is given).")
    var since: String?

    @Option(help: "Window end, exclusive (same forms as --since).")
    var until: String?

    @Flag(name: .customLong("no-line-items"), help: "Leave out the LineItem connection, as for a shop that does not import line items.")
    var noLineItems = false

    @Option(name: .customLong("exclude-type"), help: "Leave out connections of this node type (repeatable).")
    var excludeTypes: [String] = []

    @Option(name: .customLong("var"), help: "A {{var:NAME}} value, as NAME=VALUE (repeatable).")
    var variables: [String] = []

    @Option(help: "An Admin API schema file (SDL), e.g. admin-2026-01.graphql from Shopify's schema repository or `shopbulk schema show`.")
    var schema: String?

    @Option(help: "Check for this shop: its API version, and the schema cached for it by `shopbulk schema pull`.")
    var shop: String?

    @Option(name: .customLong("api-version"), help: "The API version the query will run on (default: the shop's, with --shop).")
    var apiVersion: String?

    @OptionGroup var queries: QueryOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var output: OutputOptions

    var json: Bool { output.json }

    func validate() throws {
        if let since, Self.parseDate(since) == nil {
            throw ValidationError("--since: cannot read '\(since)' as a date or ISO-8601 date-time")
        }
        if let until, Self.parseDate(until) == nil {
            throw ValidationError("--until: cannot read '\(until)' as a date or ISO-8601 date-time")
        }
        if windowField.isEmpty || !windowField.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || $0 == "_" }) {
            throw ValidationError("--window-field must be a search field name such as updated_at or created_at")
        }
        for v in variables where !v.contains("=") { throw ValidationError("--var takes NAME=VALUE, got '\(v)'") }
        if let apiVersion, (try? APIVersion(apiVersion)) == nil {
            throw ValidationError("--api-version: '\(apiVersion)' is not an API version such as 2026-01")
        }
    }

    /// The schema and API version to check against, and a note on what was used.
    func checkContext() throws -> (QueryCheckContext, String?) {
        var context = QueryCheckContext()
        var note: String?
        if let apiVersion { context.apiVersion = try APIVersion(apiVersion) }
        if let schema { context.schema = try AdminAPISchema.load(path: schema) }
        if let shop {
            let db = try Context(database: database, output: output, schema: .requireCurrent)
            let found = try ShopStore(connection: db.connection).require(shop)
            if context.apiVersion == nil { context.apiVersion = try APIVersion(found.apiVersion) }
            let version = "\(context.apiVersion ?? .default)"
            if context.schema == nil {
                context.schema = try SchemaStore(connection: db.connection).schema(apiVersion: version)
                if context.schema == nil {
                    note =
                        "note: no Admin API \(version) schema is cached: checked against the bulk rules and the known version facts only; run `shopbulk schema pull \(shop)` to validate every field"
                }
            }
        }
        return (context, note)
    }

    func run() throws {
        var queryFile: QueryFile
        do {
            queryFile = try QueryFile.resolve(file, queriesDirectory: queries.queriesDirectory)
        } catch {
            throw fail(["\(error)"])
        }
        let (checks, note) = try checkContext()
        queryFile.checks = checks
        if let note, !json { print(note) }
        let found = queryFile.validate(includingWarnings: true)
        let errors = found.filter(\.isError)
        if !errors.isEmpty {
            throw fail(
                found.map { "\(queryFile.path):\($0.line):\($0.column): \($0.isError ? "error" : "warning"): \($0.message)" },
                file: queryFile, violations: found)
        }
        let window: QueryWindow? =
            since == nil && until == nil
            ? nil : QueryWindow(field: windowField, start: since.flatMap(Self.parseDate), end: until.flatMap(Self.parseDate))
        var excluding = Set(excludeTypes)
        if noLineItems { excluding.insert("LineItem") }
        var values: [String: String] = [:]
        for v in variables {
            let parts = v.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0])] = String(parts[1])
        }
        let prepared: PreparedQuery
        do {
            prepared = try queryFile.prepare(window: window, excludingTypes: excluding, variables: values)
        } catch {
            throw fail(["\(error)"], file: queryFile, violations: found)
        }
        if json {
            printJSON(QueryCheckReport.passed(queryFile, violations: found, prepared: prepared))
            return
        }
        var verdict = "passes the bulk rules"
        if let schema = checks.schema {
            verdict = "valid for the Admin API schema \(schema.label) (\(schema.typeCount) types) and " + verdict
        }
        if let v = checks.apiVersion { verdict += " on API \(v)" }
        print("\(queryFile.path): \(verdict) (sha256 \(queryFile.hash.prefix(12)))")
        for w in found + prepared.warnings.filter({ !found.contains($0) }) {
            print("\(queryFile.path):\(w.line):\(w.column): warning: \(w.message)")
        }
        print("")
        print("Mapping (id → id and gid, __parentId → the parent column; unmapped top-level fields → extra):")
        for section in queryFile.mapping.sections {
            let parent = section.parentType.map { ", child of \($0) via \(section.parentColumn ?? "?")" } ?? ""
            let included = prepared.types.contains(section.type) ? "" : "   (left out of this query)"
            print("  \(section.type) -> \(section.table)\(parent)\(included)")
            let width = section.columns.map(\.path.count).max() ?? 0
            for c in section.columns {
                print("    \(c.path.padding(toLength: width, withPad: " ", startingAt: 0))  -> \(c.column)")
            }
            if section.columns.isEmpty { print("    (no columns: id and gid only)") }
        }
        if queryFile.mapping.sections.isEmpty { print("  (none: every line goes to bulk_records)") }
        print("")
        let windowText: String
        if let window, let filter = window.searchFilter {
            windowText = "window \(filter)"
        } else {
            windowText = "no window"
        }
        let excluded = excluding.isEmpty ? "" : ", without \(excluding.sorted().joined(separator: ", "))"
        print("Connections: \(prepared.types.joined(separator: ", ")) (top level: \(prepared.rootField) → \(prepared.rootType))")
        print("")
        print("Query to submit (\(windowText)\(excluded)):")
        print(prepared.text, terminator: "")
        print("")
        print("Submitted as the $query variable of:")
        print(PreparedQuery.runMutation)
    }

    /// Prints the problems; the returned error makes the exit status 1.
    func fail(_ lines: [String], file: QueryFile? = nil, violations: [BulkRuleViolation] = []) -> ExitCode {
        if json {
            printJSON(QueryCheckReport.failed(file: self.file, queryFile: file, violations: violations, errors: lines))
        } else {
            // Problems may quote the query file: escaped for the terminal (`TerminalText`).
            for line in lines { print(TerminalText.escape(line, keepingNewlines: true)) }
        }
        return ExitCode.failure
    }

    /// `2025-06-01` (UTC midnight) or an ISO-8601 date-time, with or without fractional seconds.
    static func parseDate(_ s: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let d = full.date(from: s) { return d }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = full.date(from: s) { return d }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: s)
    }
}
