import Foundation
import Testing

@testable import ShopifyAdmin

@Suite struct EndpointTests {
    @Test(arguments: [
        "halo", "Halo", "halo.myshopify.com", "https://halo.myshopify.com/", "  HALO.MyShopify.com ", "http://halo.myshopify.com",
    ])
    func normalisesStoreNames(_ input: String) throws {
        #expect(try ShopEndpoint.normalizeStoreName(input) == "halo")
    }

    @Test func acceptsDigitsAndHyphens() throws {
        #expect(try ShopEndpoint.normalizeStoreName("9-lives-store") == "9-lives-store")
    }

    @Test(arguments: [
        ("", "is empty"), ("-halo", "must start with a letter or digit"), ("halo-", "must end with a letter or digit"),
        ("ha_lo", "contains '_'"), ("halo shop", "contains ' '"), ("shop.example.com", "not a myshopify.com store"),
        (".myshopify.com", "has no subdomain"), (String(repeating: "a", count: 64), "longer than 63"),
        ("hälo", "contains 'ä'"),
    ])
    func rejectsBadStoreNames(_ input: String, _ fragment: String) {
        #expect {
            try ShopEndpoint(store: input)
        } throws: { error in
            guard let e = error as? ShopifyError else { return false }
            return e.code == .invalidStoreName && e.message.contains(fragment)
        }
    }

    @Test func buildsShopifyURLs() throws {
        let endpoint = try ShopEndpoint(store: "https://halo.myshopify.com/")
        #expect(endpoint.apiVersion == .default)
        #expect(endpoint.apiVersion.description == "2026-01")
        #expect(endpoint.graphQLURL == "https://halo.myshopify.com/admin/api/2026-01/graphql.json")
        #expect(endpoint.accessTokenURL == "https://halo.myshopify.com/admin/oauth/access_token")
    }

    @Test(arguments: [
        "http://127.0.0.1:8080", "http://localhost:1/", "http://[::1]:9000", "https://proxy.example.com/shop", "HTTP://127.0.0.1",
    ])
    func acceptsBaseOverrides(_ base: String) throws {
        let endpoint = try ShopEndpoint(store: "halo", apiVersion: "2025-10", apiBase: base)
        #expect(endpoint.graphQLURL.hasSuffix("/admin/api/2025-10/graphql.json"))
        #expect(!endpoint.baseURL.hasSuffix("/"))
    }

    @Test(arguments: [
        ("http://example.com", "only 127.0.0.1"), ("http://127.0.0.1.evil.com", "only 127.0.0.1"),
        ("http://127.0.0.1@evil.com", "no valid host"), ("http://10.0.0.5:80", "only 127.0.0.1"),
        ("ftp://127.0.0.1", "must start with https://"), ("127.0.0.1:8080", "must start with https://"),
        ("https://host/?token=x", "no valid host"), ("http://127.0.0.1:99999", "no valid host"),
    ])
    func rejectsInsecureOrMalformedBases(_ base: String, _ fragment: String) {
        #expect {
            try ShopEndpoint(store: "halo", apiBase: base)
        } throws: { error in
            guard let e = error as? ShopifyError else { return false }
            return e.code == .insecureBaseURL && e.message.contains(fragment)
        }
    }

    @Test func parsesVersions() throws {
        #expect(try APIVersion("2025-07").hasGroupObjects)
        #expect(try !APIVersion("2025-04").hasGroupObjects)
        #expect(try APIVersion("2026-01").hasBulkOperationQueries)
        #expect(try !APIVersion("2025-10").hasBulkOperationQueries)
        #expect(try !APIVersion("2024-10").hasUserErrorCode)
        #expect(try APIVersion("unstable") > APIVersion("2030-10"))
        #expect(try APIVersion("2025-10") < APIVersion("2026-01"))
        #expect(try APIVersion("2026-01").concurrentBulkQueries == 5)
        #expect(try APIVersion("2025-10").concurrentBulkQueries == 1)
    }

    @Test(arguments: [
        ("2026-1", "not of the form"), ("2026-02", "does not exist"), ("latest", "not of the form"),
        ("26-01", "not of the form"), ("2026-13", "does not exist"), ("2018-01", "predates"), ("", "not of the form"),
    ])
    func rejectsBadVersions(_ text: String, _ fragment: String) {
        #expect {
            try ShopEndpoint(store: "halo", apiVersion: text)
        } throws: { error in
            guard let e = error as? ShopifyError else { return false }
            return e.code == .badAPIVersion && e.message.contains(fragment)
        }
    }

    @Test func eachRejectionHasItsOwnMessage() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let messages = [
            message { _ = try ShopEndpoint(store: "bad_name") },
            message { _ = try ShopEndpoint(store: "halo", apiBase: "http://shop.example.com") },
            message { _ = try ShopEndpoint(store: "halo", apiVersion: "v2026") },
            message { _ = try SecretReference.environment("SHOPBULK_TEST_SURELY_UNSET_VAR").resolve() },
        ]
        #expect(Set(messages).count == 4)
        #expect(messages.allSatisfy { !$0.isEmpty })
    }
}

@Suite struct SecretTests {
    @Test func secretNeverPrints() {
        let secret = Secret("shpat_super_secret_value")
        #expect("\(secret)" == "<redacted>")
        #expect(String(describing: secret) == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("super_secret"))
        struct Holder { var token: Secret }
        var dumpedHolder = ""
        dump(Holder(token: secret), to: &dumpedHolder)
        #expect(!dumpedHolder.contains("super_secret"))
        #expect(!"\(Holder(token: secret))".contains("super_secret"))
        #expect(!"\(ShopifyCredentials.clientCredentials(clientID: "id", clientSecret: secret))".contains("super_secret"))
        #expect(secret.exposedValue == "shpat_super_secret_value")
    }

    @Test func parsesReferences() throws {
        #expect(try SecretReference(parsing: "env:SHOP_TOKEN") == .environment("SHOP_TOKEN"))
        #expect(try SecretReference(parsing: "file:/run/secrets/token") == .file("/run/secrets/token"))
        #expect(SecretReference.environment("X").description == "env:X")
    }

    @Test(arguments: ["shpat_abc123", "env:", "env:1BAD", "env:A-B", "file:", "TOKEN"])
    func rejectsBadReferences(_ text: String) {
        #expect {
            try SecretReference(parsing: text)
        } throws: { error in
            guard let e = error as? ShopifyError else { return false }
            // A pasted secret is never echoed back.
            return e.code == .invalidSecretReference && !(text.hasPrefix("shpat") && e.message.contains(text))
        }
    }

    @Test func resolvesEnvironmentVariables() throws {
        let ref = SecretReference.environment("SHOP_TOKEN")
        #expect(try ref.resolve(environment: ["SHOP_TOKEN": "shpat_x"]).exposedValue == "shpat_x")
        #expect {
            try ref.resolve(environment: [:])
        } throws: { error in
            let e = error as? ShopifyError
            return e?.code == .missingSecret && e!.message.contains("env:SHOP_TOKEN") && e!.message.contains("not set")
        }
        #expect {
            try ref.resolve(environment: ["SHOP_TOKEN": ""])
        } throws: { error in
            (error as? ShopifyError)?.message.contains("is empty") == true
        }
    }

    @Test func resolvesFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shopbulk-secret-\(UUID().uuidString)").path
        try "shpss_from_file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Secret files must be private (see SecuritySecretsTests for the refusals).
        #expect(chmod(path, 0o600) == 0)
        #expect(try SecretReference.file(path).resolve().exposedValue == "shpss_from_file")
        #expect {
            try SecretReference.file(path + ".missing").resolve()
        } throws: { error in
            let e = error as? ShopifyError
            return e?.code == .missingSecret && e!.message.contains("file:\(path).missing") && e!.message.contains("No such file")
        }
    }
}
