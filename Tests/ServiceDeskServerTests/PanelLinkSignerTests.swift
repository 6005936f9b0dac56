import Foundation
import Testing

@testable import ServiceDeskServer

@Suite("PanelLinkSigner: one spelling per token, and the MAC covers every part")
struct PanelLinkSignerTests {
    let signer: PanelLinkSigner
    let expires = Int64(Date().timeIntervalSince1970) + 600

    init() throws { signer = try PanelLinkSigner(keyBytes: Array(repeating: 7, count: 32)) }

    @Test("a token verifies for its own shop, e-mail (any case) and expiry")
    func verifies() {
        let token = signer.token(shop: "desk", email: "Ann@Example.com", expires: expires)
        #expect(token.count == 43)
        #expect(signer.verify(shop: "desk", email: " ann@example.com ", expires: expires, token: token) == nil)
        #expect(signer.verify(shop: "other", email: "ann@example.com", expires: expires, token: token) == .badSignature)
        #expect(signer.verify(shop: "desk", email: "bob@example.com", expires: expires, token: token) == .badSignature)
        #expect(signer.verify(shop: "desk", email: "ann@example.com", expires: expires + 1, token: token) == .badSignature)
    }

    @Test("a last character that differs only in its unused bits is refused, not read as the same MAC")
    func nonCanonicalSpelling() throws {
        let token = signer.token(shop: "desk", email: "ann@example.com", expires: expires)
        // 32 bytes are 256 bits; 43 base64 characters carry 258: the last character's low 2 bits are unused.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let lastCharacter = try #require(token.last)
        let last = try #require(alphabet.firstIndex(of: lastCharacter))
        #expect(last % 4 == 0, "a canonical token's last character has its unused bits clear")
        var sameBytes = 0
        for unused in 1...3 {
            let respelled = String(token.dropLast()) + String(alphabet[last + unused])
            // The situation arose: the respelling decodes to exactly the MAC's bytes.
            if Base64URL.decode(Substring(respelled)) == Base64URL.decode(Substring(token)) { sameBytes += 1 }
            #expect(signer.verify(shop: "desk", email: "ann@example.com", expires: expires, token: respelled) == .malformed)
        }
        #expect(sameBytes == 3)
        #expect(signer.verify(shop: "desk", email: "ann@example.com", expires: expires, token: token + "=") == .malformed)
        #expect(signer.verify(shop: "desk", email: "ann@example.com", expires: expires, token: String(token.dropLast())) == .malformed)
    }

    @Test("an expired link is refused as expired")
    func expired() {
        let past = Int64(Date().timeIntervalSince1970) - 5
        let token = signer.token(shop: "desk", email: "ann@example.com", expires: past)
        #expect(signer.verify(shop: "desk", email: "ann@example.com", expires: past, token: token) == .expired)
    }
}
