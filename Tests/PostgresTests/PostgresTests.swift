import Foundation
import Postgres
import TestSupport
import Testing

@Suite("PostgreSQL wrapper against the real server", .enabled(if: TestEnvironment.databaseTestsEnabled))
struct PostgresTests {
    @Test("parameterised queries return typed values and NULLs")
    func typedQueries() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        let r = try c.query(
            "SELECT $1::bigint AS n, $2::text AS s, $3::boolean AS b, NULL::text AS missing, $4::numeric + $5::numeric AS sum",
            [Int64(9_007_199_254_740_993), "Zoë \"q\" \\ tab\t", true, "0.1", "0.2"], name: "typed select")
        let row = try #require(r.first)
        #expect(try row["n"].decode(Int64.self) == 9_007_199_254_740_993)
        #expect(row["s"].string == "Zoë \"q\" \\ tab\t")
        #expect(row["b"].bool == true)
        #expect(row["missing"].isNull)
        #expect(row["sum"].string == "0.3")
    }

    @Test("preparesStatements: each text prepared once and run by name; a view replaced under it is prepared afresh")
    func preparedStatements() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        c.preparesStatements = true
        try c.execute("CREATE TABLE p (id bigint PRIMARY KEY, s text); INSERT INTO p VALUES (1, 'one'), (2, 'two')")
        try c.execute("CREATE VIEW pv AS SELECT id, s FROM p")
        for (id, s) in [(Int64(1), "one"), (2, "two"), (1, "one")] {
            #expect(try c.query("SELECT s FROM pv WHERE id = $1", [id], name: "by id").first?["s"].string == s)
        }
        // (This query is prepared too: two statements, each once.)
        let names = try c.query("SELECT statement FROM pg_prepared_statements ORDER BY name", name: "prepared").map {
            $0["statement"].string
        }
        #expect(names == ["SELECT s FROM pv WHERE id = $1", "SELECT statement FROM pg_prepared_statements ORDER BY name"])
        // A migration replaces the view so that the statement's result changes shape (0A000 on execute).
        let other = try db.connect()
        try other.execute("DROP VIEW pv; CREATE VIEW pv AS SELECT id, upper(s) AS s, 1 AS extra FROM p")
        #expect(try c.query("SELECT * FROM pv WHERE id = $1", [Int64(2)], name: "all").first?["extra"].string == "1")
        #expect(try c.query("SELECT s FROM pv WHERE id = $1", [Int64(2)], name: "by id").first?["s"].string == "TWO")
        let shape = try c.query("SELECT * FROM pv WHERE id = $1", [Int64(1)], name: "all")
        try other.execute("DROP VIEW pv; CREATE VIEW pv AS SELECT id, s FROM p")
        #expect(shape.first?["s"].string == "ONE")
        let after = try c.query("SELECT * FROM pv WHERE id = $1", [Int64(1)], name: "all").first
        #expect(after?["s"].string == "one" && after?["extra"].isNull == true)
        // An error in a statement still names it, prepared or not.
        #expect(throws: PostgresError.self) { try c.query("SELECT nope FROM p WHERE id = $1", [Int64(1)], name: "bad") }
    }

    @Test("preparesStatements: a statement prepared afresh that is not the newest gets a name of its own")
    func preparedAfreshKeepsNamesApart() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        c.preparesStatements = true
        try c.execute(
            "CREATE TABLE q (id bigint PRIMARY KEY, s text); INSERT INTO q VALUES (1, 'one'); CREATE VIEW qv AS SELECT id, s FROM q")
        #expect(try c.query("SELECT * FROM qv WHERE id = $1", [Int64(1)], name: "all").first?["s"].string == "one")
        #expect(try c.query("SELECT id FROM qv WHERE id = $1", [Int64(1)], name: "id").first?["id"].string == "1")
        // The first (not the newest) statement's result changes shape: it is prepared afresh.
        try db.connect().execute("DROP VIEW qv; CREATE VIEW qv AS SELECT id, s, 2 AS extra FROM q")
        #expect(try c.query("SELECT * FROM qv WHERE id = $1", [Int64(1)], name: "all").first?["extra"].string == "2")
        #expect(try c.query("SELECT id FROM qv WHERE id = $1", [Int64(1)], name: "id").first?["id"].string == "1")
        let names = try c.query("SELECT name FROM pg_prepared_statements ORDER BY name", name: "names").map { $0["name"].string ?? "" }
        #expect(Set(names).count == names.count && names.count == 3, "\(names)")
    }

    @Test("COPY of 100,000 rows with text that needs escaping round-trips byte for byte")
    func copyManyRows() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        try c.execute("CREATE TABLE t (id bigint PRIMARY KEY, s text, n text)")
        let samples = [
            "plain", "tab\there", "new\nline", "back\\slash", "cr\rlf\r\n", "Zoë Łukasz 山田 🚀", "\\N", "", "quote\"'", "\u{2028}sep",
        ]
        let stored = try c.copyFrom("COPY t (id, s, n) FROM STDIN", name: "copy t") { writer in
            for i in 0..<100_000 {
                try writer.field(Int64(i))
                try writer.field(samples[i % samples.count] + String(i))
                if i % 7 == 0 { try writer.null() } else { try writer.field(samples[(i + 3) % samples.count]) }
                try writer.endRow()
            }
        }
        #expect(stored == 100_000)
        let count = try c.query("SELECT count(*) AS n, count(n) AS nn FROM t").first!
        #expect(count["n"].int == 100_000)
        #expect(count["nn"].int == 100_000 - (100_000 + 6) / 7)
        for i in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99_999] {
            let row = try c.query("SELECT s, n FROM t WHERE id = $1", [i]).first!
            #expect(row["s"].string == samples[i % samples.count] + String(i))
            #expect(row["n"].string == (i % 7 == 0 ? nil : samples[(i + 3) % samples.count]))
        }
    }

    @Test("a NUL byte in COPY data is rejected with a clear error and no row is stored")
    func copyRejectsNul() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        try c.execute("CREATE TABLE t (id bigint, s text)")
        #expect {
            try c.copyFrom("COPY t FROM STDIN") { writer in
                try writer.field(Int64(1))
                try writer.field("ok")
                try writer.endRow()
                try writer.field(Int64(2))
                try writer.field("bad\u{0}value")
                try writer.endRow()
            }
        } throws: { error in
            let e = try #require(error as? PostgresError)
            return e.code == .copyData && e.description.contains("NUL") && e.description.contains("row 2")
        }
        #expect(try c.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)
        #expect(c.isAlive)
    }

    struct ProducerFailed: Error {}

    @Test("a producer that throws mid-COPY leaves no rows, inside or outside a transaction")
    func producerThrows() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        try c.execute("CREATE TABLE t (id bigint)")
        #expect(throws: ProducerFailed.self) {
            try c.copyFrom("COPY t FROM STDIN") { writer in
                for i in 0..<50_000 {
                    try writer.field(Int64(i))
                    try writer.endRow()
                }
                throw ProducerFailed()
            }
        }
        #expect(try c.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)
        #expect(throws: ProducerFailed.self) {
            try c.transaction {
                try c.execute("INSERT INTO t VALUES (-1)")
                try c.copyFrom("COPY t FROM STDIN") { writer in
                    try writer.field(Int64(1))
                    try writer.endRow()
                    throw ProducerFailed()
                }
            }
        }
        #expect(try c.query("SELECT count(*) AS n FROM t").first?["n"].int == 0)
        // The connection is usable afterwards.
        try c.execute("INSERT INTO t VALUES (1)")
        #expect(try c.query("SELECT count(*) AS n FROM t").first?["n"].int == 1)
    }

    @Test("a unique violation surfaces SQLSTATE 23505 and the statement's name, never the values")
    func uniqueViolation() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        try c.execute("CREATE TABLE t (id bigint PRIMARY KEY, secret text)")
        try c.query("INSERT INTO t VALUES ($1, $2)", [Int64(7), "hunter2-secret"], name: "insert t")
        #expect {
            try c.query("INSERT INTO t VALUES ($1, $2)", [Int64(7), "hunter2-secret"], name: "insert t")
        } throws: { error in
            let e = try #require(error as? PostgresError)
            return e.sqlState == "23505" && e.isUniqueViolation && e.statement == "insert t" && e.constraint == "t_pkey"
                && !e.description.contains("hunter2") && !e.description.contains("(7)")
        }
    }

    @Test("transactions commit on return and roll back on throw")
    func transactions() throws {
        let db = try TestDatabase()
        let c = try db.connect()
        try c.execute("CREATE TABLE t (id bigint)")
        try c.transaction { try c.execute("INSERT INTO t VALUES (1)") }
        _ = try? c.transaction {
            try c.execute("INSERT INTO t VALUES (2)")
            throw ProducerFailed()
        }
        #expect(try c.query("SELECT array_agg(id) AS ids FROM t").first?["ids"].string == "{1}")
    }

    @Test("advisory locks exclude a second session until released")
    func advisoryLocks() throws {
        let db = try TestDatabase()
        let a = try db.connect()
        let b = try db.connect()
        let key = PostgresConnection.advisoryKey("test-lock")
        #expect(try a.tryAdvisoryLock(key))
        #expect(try !b.tryAdvisoryLock(key))
        try a.advisoryUnlock(key)
        #expect(try b.tryAdvisoryLock(key))
        try b.advisoryUnlock(key)
        let ran = try a.withAdvisoryLock(key) { try !b.tryAdvisoryLock(key) }
        #expect(ran)
    }
}

@Suite("PostgreSQL connection errors")
struct PostgresConnectionErrorTests {
    @Test("an unreachable server names the host and says what to check, without the password")
    func unreachable() throws {
        #expect {
            _ = try PostgresConnection("postgresql://alice:pa55w0rd-XYZ@127.0.0.1:1/db?connect_timeout=3")
        } throws: { error in
            let text = "\(error)"
            return text.contains("127.0.0.1") && text.contains("port 1") && text.contains("Check that the server is running")
                && !text.contains("pa55w0rd-XYZ")
        }
    }
}
