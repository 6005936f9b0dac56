import Crypto
import Foundation

/// One versioned SQL file, `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String
    /// Lower-case hex SHA-256 of the file's bytes.
    public var checksum: String
    public var fileName: String

    public init(version: Int, name: String, sql: String, fileName: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.fileName = fileName
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses `0001_create_shops.sql` into version 1 and name `create_shops`.
    static func parseFileName(_ fileName: String) -> (version: Int, name: String)? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[stem.startIndex..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count >= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(digits), version > 0,
            !name.isEmpty
        else { return nil }
        return (version, String(name))
    }

    /// Reads every `.sql` file of `directory`, sorted by version. A `.sql` file whose name does not
    /// follow `NNNN_name.sql`, or two files with one version, is an error naming the files.
    public static func load(from directory: String) throws(MigrationError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError(
                code: .badDirectory,
                message: "cannot read the migrations folder \(directory): it does not exist or is not readable (set --migrations-dir)")
        }
        var migrations: [Migration] = []
        for fileName in names.sorted() where fileName.hasSuffix(".sql") {
            guard let (version, name) = parseFileName(fileName) else {
                throw MigrationError(
                    code: .badFileName,
                    message:
                        "\(directory)/\(fileName): migration files must be named NNNN_name.sql (four or more digits, an underscore, a name)",
                    file: fileName)
            }
            let path = (directory as NSString).appendingPathComponent(fileName)
            guard let data = FileManager.default.contents(atPath: path), let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError(code: .badFile, message: "\(path): cannot read the file as UTF-8 text", file: fileName)
            }
            if let other = migrations.first(where: { $0.version == version }) {
                throw MigrationError(
                    code: .duplicateVersion, message: "\(fileName) and \(other.fileName) have the same version \(version)", file: fileName)
            }
            migrations.append(Migration(version: version, name: name, sql: sql, fileName: fileName))
        }
        guard !migrations.isEmpty else {
            throw MigrationError(
                code: .badDirectory, message: "the migrations folder \(directory) holds no NNNN_name.sql files (set --migrations-dir)")
        }
        return migrations.sorted { $0.version < $1.version }
    }
}

/// A row of `schema_migrations`.
public struct AppliedMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var checksum: String
    public init(version: Int, name: String, checksum: String) {
        self.version = version
        self.name = name
        self.checksum = checksum
    }
}

/// What the database holds compared with the files: a pure value, computed without I/O.
public struct MigrationPlan: Sendable, Equatable {
    /// Files applied with the same checksum.
    public var applied: [Migration]
    /// Files not applied yet, in version order.
    public var pending: [Migration]
    /// Files applied with a different checksum: the file was edited after it ran.
    public var changed: [(file: Migration, recorded: AppliedMigration)]
    /// Versions the database has and no file has (e.g. applied by a newer shopbulk).
    public var unknown: [AppliedMigration]

    public init(files: [Migration], applied rows: [AppliedMigration]) {
        let byVersion = Dictionary(rows.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        applied = []
        pending = []
        changed = []
        for file in files {
            if let row = byVersion[file.version] {
                if row.checksum == file.checksum { applied.append(file) } else { changed.append((file, row)) }
            } else {
                pending.append(file)
            }
        }
        let known = Set(files.map(\.version))
        unknown = rows.filter { !known.contains($0.version) }.sorted { $0.version < $1.version }
    }

    public static func == (a: MigrationPlan, b: MigrationPlan) -> Bool {
        a.applied == b.applied && a.pending == b.pending && a.unknown == b.unknown
            && a.changed.map(\.file) == b.changed.map(\.file) && a.changed.map(\.recorded) == b.changed.map(\.recorded)
    }
}

/// An error of the migration runner; names the file concerned.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let badDirectory = Code("bad-directory")
        public static let badFileName = Code("bad-file-name")
        public static let badFile = Code("bad-file")
        public static let duplicateVersion = Code("duplicate-version")
        /// An applied file was edited afterwards.
        public static let checksumChanged = Code("checksum-changed")
        /// A file's SQL failed.
        public static let failed = Code("failed")
        /// The database lacks migrations and the command does not apply them.
        public static let pending = Code("pending")
        public var description: String { rawValue }
    }
    public var code: Code
    public var message: String
    public var file: String?
    public init(code: Code, message: String, file: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
    }
    public var description: String { message }
}
