import Foundation
import Importer
import Postgres
import ShopifyAdmin
import TestSupport
import Testing
import TrustedFiles

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Security: pasted secrets are refused where references belong")
struct PastedSecretTests {
    static let token = "shpat_0123456789abcdef0123456789abcdef"

    @Test("names and paths that look like Shopify secrets are refused without being echoed")
    func detector() {
        #expect(SecretReference.secretLikeness("HALO_TOKEN") == nil)
        #expect(SecretReference.secretLikeness("/etc/shopbulk/halo.secret") == nil)
        #expect(SecretReference.secretLikeness(Self.token) == "it starts with shpat_, as Shopify access tokens do")
        #expect(SecretReference.secretLikeness("SHPSS_abc") == "it starts with shpss_, as Shopify client secrets do")
        #expect(SecretReference.secretLikeness("env:shpca_x") == "it starts with shpca_, as Shopify access tokens do")
        #expect(SecretReference.secretLikeness("file:/run/shppa_1234") == "it starts with shppa_, as Shopify access tokens do")
        #expect(
            SecretReference.secretLikeness("/tmp/0123456789abcdef0123456789ABCDEF")
                == "it is a string of 32 hexadecimal digits, like a Shopify API secret")
        #expect(SecretReference.secretLikeness("/tmp/0123456789abcdef") == nil)
    }

    @Test("a stored reference holding a token is not used and not shown")
    func storedReference() {
        #expect(throws: ShopifyError.self) { try SecretReference(parsing: "env:" + Self.token) }
        do {
            _ = try SecretReference(parsing: "env:" + Self.token)
        } catch {
            #expect(!error.message.contains(Self.token))
            #expect(
                error.message
                    == "a secret reference holds what looks like a secret itself (it starts with shpat_, as Shopify access tokens do), not a variable name or a file path: change it with `shopbulk shop edit NAME --token-env VAR` (or --token-file, --client-secret-env, --client-secret-file) and rotate that secret"
            )
        }
        #expect(SecretReference.displayText("env:" + Self.token) == "<hidden: looks like a secret, not a reference>")
        #expect(SecretReference.displayText("env:HALO_TOKEN") == "env:HALO_TOKEN")
    }
}

@Suite("Security: shop add refuses a pasted token and unsafe secret files", .serialized, .enabled(if: TestEnvironment.databaseTestsEnabled))
struct SecretCommandTests {
    static let token = PastedSecretTests.token

    @Test("--token-env shpat_…, --client-secret-file HEX, --client-id shpss_… exit 2; nothing is stored or echoed")
    func pastedToken() async throws {
        let db = try TestDatabase()
        let cli = ShopbulkCLI(db: db)
        let hex = "0123456789abcdef0123456789abcdef"
        let cases: [([String], String)] = [
            (
                ["--token-env", Self.token],
                "--token-env takes the name of an environment variable, but the value looks like a secret itself (it starts with shpat_, as Shopify access tokens do). Secrets never go on the command line, where `ps` and the shell history show them: put the secret in an environment variable (export HALO_TOKEN=…) and give --token-env HALO_TOKEN, or in a file only you can read (chmod 600 FILE) and give --token-file FILE. Rotate the secret if others may have seen it."
            ),
            (
                ["--token-file", Self.token],
                "--token-file takes the path of a file, but the value looks like a secret itself (it starts with shpat_, as Shopify access tokens do). Secrets never go on the command line, where `ps` and the shell history show them: put the secret in an environment variable (export HALO_TOKEN=…) and give --token-env HALO_TOKEN, or in a file only you can read (chmod 600 FILE) and give --token-file FILE. Rotate the secret if others may have seen it."
            ),
            (
                ["--client-id", "cid", "--client-secret-file", hex],
                "--client-secret-file takes the path of a file, but the value looks like a secret itself (it is a string of 32 hexadecimal digits, like a Shopify API secret). Secrets never go on the command line, where `ps` and the shell history show them: put the secret in an environment variable (export HALO_SECRET=…) and give --client-secret-env HALO_SECRET, or in a file only you can read (chmod 600 FILE) and give --client-secret-file FILE. Rotate the secret if others may have seen it."
            ),
            (
                ["--client-id", "shpss_" + hex, "--client-secret-env", "HALO_SECRET"],
                "--client-id takes the app's client ID, but the value starts with shpss_, as Shopify secrets do: give the client ID (Dev Dashboard → the app → Settings) and the client secret through --client-secret-env VAR or --client-secret-file PATH. Rotate the secret if others may have seen it."
            ),
        ]
        for (flags, message) in cases {
            let r = try await cli.run(["shop", "add", "halo", "--store", "halo", "--no-verify"] + flags)
            #expect(r.status == 2, "\(flags): \(r.stderr)")
            #expect(r.stderr.hasPrefix("Error: \(message)\n"), "\(flags): \(r.stderr)")
            for value in flags where SecretReference.secretLikeness(value) != nil {
                #expect(!r.stderr.contains(value) && !r.stdout.contains(value), "\(flags): the secret was echoed")
            }
        }
        #expect(try ShopStore(connection: db.connect()).all().isEmpty)

        // A reference stored before this check is hidden in listings.
        _ = try ShopStore(connection: db.connect()).add(
            Shop(name: "old", storeDomain: "old.myshopify.com", authMethod: .token, tokenRef: "env:" + Self.token))
        let list = try await cli.run(["shop", "list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(!list.stdout.contains(Self.token))
        let shops = try #require(list.json as? [[String: Any]])
        #expect(shops.first?["token_ref"] as? String == "<hidden: looks like a secret, not a reference>")
        let table = try await cli.run(["shop", "list"])
        #expect(!table.stdout.contains(Self.token))
        #expect(table.stdout.contains("token <hidden: looks like a secret, not a reference>"))
    }

    @Test("a secret file readable by others, not a regular file, or of another user is refused, saying which")
    func unsafeSecretFiles() async throws {
        let db = try TestDatabase()
        let dir = try SecurityCLI.temporaryFolder("secret")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/halo.token"
        try "shpat_file_secret_value_99\n".write(toFile: file, atomically: false, encoding: .utf8)
        #expect(chmod(file, 0o644) == 0)
        let me = FileOwner.userName(geteuid())

        func message(_ path: String) throws -> String {
            do {
                _ = try SecretReference.file(path).resolve()
                return "resolved"
            } catch { return error.message }
        }
        #expect(
            try message(file)
                == "secret reference file:\(file): \(file) is open to its group and others (mode 644): a secret file must be readable only by its owner; fix it with chmod 600 \(file) and rotate the secret if others could read it"
        )
        #expect(chmod(file, 0o640) == 0)
        #expect(try message(file).contains("is open to its group (mode 640)"))
        #expect(chmod(file, 0o600) == 0)
        #expect(try message(file) == "resolved")
        let fifo = dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(
            try message(fifo)
                == "secret reference file:\(fifo): \(fifo) is not a regular file (it is a FIFO): put the secret in a plain file readable only by you"
        )
        #expect(try message(dir).hasSuffix("is not a regular file (it is a folder): put the secret in a plain file readable only by you"))
        if geteuid() == 0 {
            let theirs = dir + "/theirs.token"
            try "x\n".write(toFile: theirs, atomically: false, encoding: .utf8)
            #expect(chmod(theirs, 0o600) == 0)
            #expect(chown(theirs, 65534, 65534) == 0)
            #expect(
                try message(theirs)
                    == "secret reference file:\(theirs): \(theirs) belongs to \(FileOwner.userName(65534)), not to \(me): a secret file must be yours or root's (chown \(me) \(theirs))"
            )
        }

        // Through shop add: refused before anything is sent or saved.
        #expect(chmod(file, 0o644) == 0)
        let cli = ShopbulkCLI(db: db)
        let add = try await cli.run(["shop", "add", "halo", "--store", "halo", "--token-file", file, "--api-base", "http://127.0.0.1:9"])
        #expect(add.status == 1)
        #expect(
            add.stderr
                == "Error [shop-not-verified]: cannot verify shop 'halo' (halo.myshopify.com): Shopify unsafe-secret-file: secret reference file:\(file): \(file) is open to its group and others (mode 644): a secret file must be readable only by its owner; fix it with chmod 600 \(file) and rotate the secret if others could read it\nNothing was saved. Fix the credentials or the app's scopes, or skip the check with --no-verify.\n"
        )
        #expect(!add.stderr.contains("shpat_file_secret_value_99"))
        #expect(try ShopStore(connection: db.connect()).all().isEmpty)
    }
}
