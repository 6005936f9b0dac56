import Crypto
import Foundation
import Postgres

/// An API key as stored: its name, the shops it may read (nil: all), and whether it is revoked.
/// The key itself is never stored, only its SHA-256.
public struct APIKeyRecord: Sendable, Equatable, Encodable {
    public var name: String
    /// nil: every shop.
    public var shops: [String]?
    public var createdAt: String
    public var revokedAt: String?

    public var isRevoked: Bool { revokedAt != nil }

    /// Whether the key may read `shop`.
    public func allows(shop: String) -> Bool { shops.map { $0.contains(shop) } ?? true }
}

/// Errors of key management, naming the key; never the key itself.
public struct APIKeyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Creates, lists, revokes and verifies API keys in `api_keys` (migration 0016).
public struct APIKeyStore {
    let connection: PostgresConnection
    public init(connection: PostgresConnection) { self.connection = connection }

    /// The prefix of every key (so that a leaked one is recognisable in a scanner).
    public static let prefix = "sbk_"

    /// A new random key: `sbk_` and 43 base64url characters (256 bits from the system's CSPRNG).
    public static func generateKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Base64URL.encode(bytes)
    }

    /// SHA-256 of the key's UTF-8 bytes.
    public static func hash(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Array(key.utf8))) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func validate(name: String) throws {
        let ok =
            !name.isEmpty && name.count <= 63
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
            && name.unicodeScalars.first.map { CharacterSet.alphanumerics.contains($0) } == true
        guard ok else { throw APIKeyError("API key name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit") }
    }

    /// Creates a key named `name` for `shops` (empty: all shops) and returns it: the only time it is
    /// seen. The shops must exist.
    public func create(name: String, shops: [String]) throws -> String {
        try Self.validate(name: name)
        let wanted = Array(Set(shops)).sorted()
        if !wanted.isEmpty {
            let known = Set(
                try connection.query("SELECT name FROM shops WHERE name = ANY($1::text[])", [wanted], name: "check key shops").compactMap {
                    $0["name"].string
                })
            if let missing = wanted.first(where: { !known.contains($0) }) {
                throw APIKeyError("no shop named \(missing) (see `shopbulk shop list`)")
            }
        }
        if try connection.query("SELECT 1 FROM api_keys WHERE name = $1", [name], name: "find api key").count > 0 {
            throw APIKeyError("an API key named \(name) exists already (revoke it, or choose another name)")
        }
        let key = Self.generateKey()
        try connection.query(
            "INSERT INTO api_keys (name, key_hash, shops) VALUES ($1, decode($2, 'hex'), $3::text[])",
            [name, Self.hex(Self.hash(key)), wanted.isEmpty ? nil : wanted], name: "create api key")
        return key
    }

    /// Every key, newest first, revoked ones included.
    public func list() throws -> [APIKeyRecord] {
        try connection.query(
            "SELECT name, to_json(shops)::text AS shops, \(Self.iso("created_at")) AS created_at, \(Self.iso("revoked_at")) AS revoked_at FROM api_keys ORDER BY created_at DESC, name",
            name: "list api keys"
        ).map(Self.record)
    }

    /// Revokes the key named `name`; an already revoked key stays as it is.
    public func revoke(name: String) throws {
        let rows = try connection.query(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1 RETURNING name", [name], name: "revoke api key")
        guard rows.count == 1 else { throw APIKeyError("no API key named \(name) (see `shopbulk apikey list`)") }
    }

    /// The record of the key presented, if it exists (revoked or not). The stored hash is compared
    /// with the presented key's in constant time.
    public func find(key: String) throws -> APIKeyRecord? {
        let hash = Self.hash(key)
        guard
            let row = try connection.query(
                """
                SELECT name, encode(key_hash, 'hex') AS key_hash, to_json(shops)::text AS shops,
                       \(Self.iso("created_at")) AS created_at, \(Self.iso("revoked_at")) AS revoked_at
                FROM api_keys WHERE key_hash = decode($1, 'hex')
                """, [Self.hex(hash)], name: "verify api key"
            ).first,
            let storedHex = row["key_hash"].string,
            ConstantTime.equal(Array(storedHex.utf8), Array(Self.hex(hash).utf8))
        else { return nil }
        return Self.record(row)
    }

    static func record(_ row: PostgresRow) -> APIKeyRecord {
        var shops: [String]?
        if let json = row["shops"].string, let data = json.data(using: .utf8),
            let list = (try? JSONSerialization.jsonObject(with: data)) as? [String]
        {
            shops = list
        }
        return APIKeyRecord(
            name: row["name"].string ?? "", shops: shops, createdAt: row["created_at"].string ?? "", revokedAt: row["revoked_at"].string)
    }

    static func iso(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
enum ConstantTime {
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// base64url without padding (RFC 4648 §5).
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
