import Crypto
import Foundation
import Loader
import TrustedFiles

/// A `.graphql` file of `queries/`: the bulk query and, in its `#!` header, the mapping of its lines
/// to tables.
public struct QueryFile: Sendable {
    /// The file name without `.graphql` (`orders`).
    public var name: String
    public var path: String
    public var text: String
    public var mapping: Mapping
    /// Lower-case hex SHA-256 of the file's text: recorded with every run.
    public var hash: String
    /// What the file is checked against beyond the bulk rules: the shop's API version and, when
    /// known, the real Admin API schema. Empty by default (bulk rules and built-in table only).
    public var checks = QueryCheckContext()

    public init(name: String, path: String, text: String) throws(QueryFileError) {
        self.name = name
        self.path = path
        self.text = text
        do { self.mapping = try Mapping.parse(text, file: path) } catch { throw QueryFileError(error) }
        for i in mapping.sections.indices { mapping.sections[i].memberTypes = AdminSchema.interfaces[mapping.sections[i].type] ?? [] }
        self.hash = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads a query file from a path.
    public static func load(path: String) throws(QueryFileError) -> QueryFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QueryFileError(file: path, message: "cannot read the query file (does it exist?)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw QueryFileError(file: path, message: "the query file is not UTF-8 text")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        return try QueryFile(name: name, path: path, text: text)
    }

    /// Resolves `orders`, `customers` or a path: a bare name is looked up as `<dir>/<name>.graphql`.
    public static func resolve(_ nameOrPath: String, queriesDirectory: String?) throws -> QueryFile {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".graphql") {
            return try load(path: nameOrPath)
        }
        let dir = try ResourceLocator.directory(named: "queries", explicit: queriesDirectory)
        let path = dir + "/" + nameOrPath + ".graphql"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".graphql") }
                .map { String($0.dropLast(8)) }.sorted()
            throw QueryFileError(file: path, message: "no such query; known queries in \(dir): \(known.joined(separator: ", "))")
        }
        return try load(path: path)
    }
}
