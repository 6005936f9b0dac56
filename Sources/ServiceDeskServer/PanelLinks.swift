import Crypto
import Foundation

/// Signed panel links: an iframe cannot send an `Authorization` header, so a ticket screen's backend
/// asks `POST /v1/panel-links` (with its key) for a URL whose token is an HMAC-SHA256 over the shop,
/// the e-mail and the expiry. The browser only ever sees that URL, never the key.
public struct PanelLinkSigner: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(keyBytes: [UInt8]) throws {
        guard keyBytes.count >= 32 else { throw PanelLinkError("the panel link key must have at least 32 bytes") }
        self.keyBytes = keyBytes
    }

    /// The key in `path`: 64 or more hex digits. When the file does not exist it is created (mode
    /// 0600, in a folder only its owner can read) with 32 random bytes. The key is never logged.
    public static func loadOrCreate(path: String) throws -> PanelLinkSigner {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let text = bytes.map { String(format: "%02x", $0) }.joined() + "\n"
            guard fm.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw PanelLinkError("cannot create the panel link key file \(path)")
            }
        }
        guard let data = fm.contents(atPath: path) else { throw PanelLinkError("cannot read the panel link key file \(path)") }
        if let attributes = try? fm.attributesOfItem(atPath: path), let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw PanelLinkError("the panel link key file \(path) is readable by others (mode \(String(mode, radix: 8))): chmod 600 it")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count >= 64, text.count % 2 == 0, let bytes = Self.unhex(text) else {
            throw PanelLinkError("the panel link key file \(path) must hold at least 64 hex digits (32 bytes)")
        }
        return try PanelLinkSigner(keyBytes: bytes)
    }

    static func unhex(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// What the MAC covers: a version, the shop, the e-mail (lower-cased, trimmed) and the expiry in
    /// Unix seconds, each length-prefixed so that no two inputs share a message.
    static func message(shop: String, email: String, expires: Int64) -> [UInt8] {
        var out = Array("panel-link-v1".utf8)
        for part in [shop, PanelLinkSigner.normalise(email), String(expires)] {
            let bytes = Array(part.utf8)
            out += Array("\(bytes.count):".utf8) + bytes
        }
        return out
    }

    static func normalise(_ email: String) -> String { email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    /// The token for a link to `shop`'s panel for `email`, valid until `expires` (Unix seconds).
    public func token(shop: String, email: String, expires: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.message(shop: shop, email: email, expires: expires), using: key)
        return Base64URL.encode(Array(mac))
    }

    /// Why a link is refused.
    public enum Refusal: Sendable, Equatable {
        case malformed, expired, badSignature
    }

    /// Checks a link's token (the MAC is compared in constant time) and its expiry.
    public func verify(shop: String, email: String, expires: Int64, token: String, now: Date = Date()) -> Refusal? {
        // Only the canonical spelling: a last character that differs in its unused low bits decodes
        // to the same bytes, and a link must have one spelling only.
        guard let presented = Base64URL.decode(Substring(token)), presented.count == 32, Base64URL.encode(presented) == token else {
            return .malformed
        }
        let ok = HMAC<SHA256>.isValidAuthenticationCode(
            presented, authenticating: Self.message(shop: shop, email: email, expires: expires), using: key)
        guard ok else { return .badSignature }
        guard Double(expires) > now.timeIntervalSince1970 else { return .expired }
        return nil
    }

    /// The path and query of a signed panel link.
    public func path(shop: String, email: String, expires: Int64) -> String {
        let token = token(shop: shop, email: email, expires: expires)
        return "/panel?shop=\(Self.query(shop))&email=\(Self.query(email))&expires=\(expires)&token=\(token)"
    }

    static func query(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

public struct PanelLinkError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
