import Foundation
import ShopifySimulator
import Testing

@Suite("Result downloads and fault switches (over HTTP)")
struct DownloadAndFaultTests {
    func completed(_ sim: ShopifySimulator, _ c: Client, query: String = orderQuery) async throws -> (id: String, url: String, file: Data) {
        let id = try #require(try await c.runBulk(query).id)
        let op = try await c.wait(id)
        let url = try #require(op["url"] as? String)
        let file = try Data(contentsOf: try #require(sim.operation(id)?.resultFile))
        return (id, url, file)
    }

    @Test func rangeRequestsAndContentLength() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (_, url, file) = try await completed(sim, c)
        let whole = try await Curl.run(url)
        #expect(whole.status == 200)
        #expect(whole.body == file)
        #expect(whole.header("Content-Length") == String(file.count))
        #expect(whole.header("Accept-Ranges") == "bytes")
        let part = try await Curl.run(url, headers: ["Range": "bytes=100-199"])
        #expect(part.status == 206)
        #expect(part.body == file.subdata(in: 100..<200))
        #expect(part.header("Content-Range") == "bytes 100-199/\(file.count)")
        #expect(part.header("Content-Length") == "100")
        let tail = try await Curl.run(url, headers: ["Range": "bytes=\(file.count - 10)-"])
        #expect(tail.status == 206)
        #expect(tail.body == file.suffix(10))
        let suffix = try await Curl.run(url, headers: ["Range": "bytes=-5"])
        #expect(suffix.body == file.suffix(5))
        let past = try await Curl.run(url, headers: ["Range": "bytes=\(file.count)-"])
        #expect(past.status == 416)
        #expect(past.header("Content-Range") == "bytes */\(file.count)")
        let head = try await Curl.run(url, method: "HEAD")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == String(file.count))
        // A tampered signature is refused.
        let bad = try await Curl.run(url.replacingOccurrences(of: "signature=", with: "signature=0"))
        #expect(bad.status == 403)
        #expect(bad.text.contains("SignatureDoesNotMatch"))
        // The download carries no token, and went to the files host.
        let downloads = sim.recordedRequests.filter { $0.listener == "files" }
        #expect(downloads.count == 7)
        #expect(downloads.allSatisfy { $0.port == sim.filesPort && $0.header("X-Shopify-Access-Token") == nil })
        #expect(
            sim.recordedRequests.filter { $0.listener == "api" }.allSatisfy {
                $0.port == sim.port && $0.header("X-Shopify-Access-Token") == "[REDACTED]"
            })
    }

    @Test func resultURLsExpireAndTheOperationBecomesExpired() async throws {
        let sim = try await startSim { $0.resultURLLifetime = 3600 }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (id, url, _) = try await completed(sim, c)
        #expect(try await Curl.run(url).status == 200)
        sim.advanceClock(by: 3601)
        let r = try await Curl.run(url)
        #expect(r.status == 403)
        #expect(r.text.contains("ExpiredToken"))
        let op = try await c.gql("query($id: ID!) { bulkOperation(id: $id) { status } }", variables: ["id": id])
        #expect(op.path("data", "bulkOperation", "status") as? String == "EXPIRED")
    }

    @Test func failedOperationsKeepPartialData() async throws {
        for kind in [OperationFault.Kind.internalServerError, .timeout, .failedWithoutCode] {
            let sim = try await startSim { $0.faults.operations = [OperationFault(operation: 2, kind: kind, afterObjects: 25)] }
            defer { Task { await sim.stop() } }
            let c = Client(sim)
            let ok = try await c.export(orderQuery)  // operation 1 is fine
            #expect(ok.op["status"] as? String == "COMPLETED")
            let id = try #require(try await c.runBulk(orderQuery).id)
            let op = try await c.wait(id)
            #expect(op["status"] as? String == "FAILED")
            if kind == .failedWithoutCode {
                #expect(op["errorCode"] is NSNull)
            } else {
                #expect(op["errorCode"] as? String == kind.rawValue)
            }
            #expect(op["url"] is NSNull)
            let partial = try #require(op["partialDataUrl"] as? String)
            let d = try await Curl.run(partial)
            #expect(d.status == 200)
            let lines = c.lines(d.body)
            #expect(lines.count >= 25 && lines.count < 60)
            #expect(String(lines.count) == op["objectCount"] as? String)
        }
    }

    @Test func shopifyCancelsAnOperation() async throws {
        let sim = try await startSim { $0.faults.operations = [OperationFault(operation: 1, kind: .canceled, afterObjects: 10)] }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let id = try #require(try await c.runBulk(orderQuery).id)
        let op = try await c.wait(id)
        #expect(op["status"] as? String == "CANCELED")
        #expect(op["errorCode"] is NSNull)
    }

    @Test func slowOperation() async throws {
        let sim = try await startSim { $0.faults.operations = [OperationFault(operation: 1, kind: .slow, rowsPerSecond: 300)] }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let start = Date()
        let (op, lines) = try await c.export(orderQuery)
        #expect(op["status"] as? String == "COMPLETED")
        let expected = Double(lines.count) / 300
        #expect(Date().timeIntervalSince(start) >= expected * 0.8)
    }

    @Test func truncatedAndCorruptResultLines() async throws {
        let sim = try await startSim { c in
            c.faults.operations = [
                OperationFault(operation: 1, kind: .truncatedLastLine), OperationFault(operation: 2, kind: .corruptLine, line: 3),
            ]
        }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (_, url1, file1) = try await completed(sim, c)
        #expect(file1.last != 0x0A)
        let raw1 = try await Curl.run(url1).body
        let last = raw1.split(separator: 0x0A).last.map { Data($0) } ?? Data()
        #expect((try? JSONSerialization.jsonObject(with: last)) == nil)
        #expect(c.lines(raw1).count == file1.split(separator: 0x0A).count - 1)
        let (_, _, file2) = try await completed(sim, c)
        let l2 = file2.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect((try? JSONSerialization.jsonObject(with: Data(l2[2]))) == nil)
        #expect((try? JSONSerialization.jsonObject(with: Data(l2[1]))) != nil)
        #expect((try? JSONSerialization.jsonObject(with: Data(l2[3]))) != nil)
    }

    @Test func foreignOperationOccupiesTheSlot() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim, version: "2025-10")
        // Long enough to still run when a loaded CI machine gets to the listing below.
        sim.addFaults(SimulatorFaults(foreignOperations: [ForeignOperation(app: "legacy-app", seconds: 8)]))
        let foreign = try #require(sim.operations.first { $0.foreign })
        let r = try await c.runBulk(orderQuery)
        #expect(r.userErrors.first?["code"] as? String == "OPERATION_IN_PROGRESS")
        #expect(
            r.userErrors.first?["message"] as? String
                == "A bulk query operation for this app and shop is already in progress: \(foreign.gid).")
        let listed = try await c.gql("{ currentBulkOperation { id status } }")
        #expect(listed.path("data", "currentBulkOperation", "id") as? String == foreign.gid)
        #expect(listed.path("data", "currentBulkOperation", "status") as? String == "RUNNING")
        #expect(await sim.waitForOperation(foreign.gid)?.status == "COMPLETED")
        #expect(try await c.runBulk(orderQuery).id != nil)
        // 2026-01: five slots; a foreign op holding all five gives LIMIT_REACHED.
        sim.addFaults(SimulatorFaults(foreignOperations: [ForeignOperation(app: "legacy-app", seconds: 5, slots: 5)]))
        let r2 = try await Client(sim).runBulk(orderQuery)
        #expect(r2.userErrors.first?["code"] as? String == "LIMIT_REACHED")
    }

    @Test func httpFaultsOnTheNextRequestsAndOnAFraction() async throws {
        let sim = try await startSim { $0.faults.http = [HTTPFault(status: 429, count: 2, retryAfter: 2)] }
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        for _ in 0..<2 {
            let r = try await c.post("{ shop { name } }")
            #expect(r.status == 429)
            #expect(r.header("Retry-After") == "2")
        }
        #expect(try await c.post("{ shop { name } }").status == 200)
        sim.addFaults(SimulatorFaults(http: [HTTPFault(status: 503, count: 1, retryAfter: 1), HTTPFault(status: 500, count: 1)]))
        #expect(try await c.post("{ shop { name } }").status == 503)
        #expect(try await c.post("{ shop { name } }").status == 500)
        #expect(try await c.post("{ shop { name } }").status == 200)
        sim.setFaults(SimulatorFaults(http: [HTTPFault(status: 503, fraction: 0.5)]))
        var failures = 0
        for _ in 0..<40 { if try await c.post("{ shop { name } }").status == 503 { failures += 1 } }
        #expect(failures > 8 && failures < 32, "\(failures) of 40")
        sim.setFaults(SimulatorFaults())
        #expect(try await c.post("{ shop { name } }").status == 200)
    }

    @Test func downloadsDropAfterKBytesAndResumeWithRange() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let (_, url, file) = try await completed(sim, c)
        let k = file.count / 4
        sim.addFaults(SimulatorFaults(downloadDrops: [DownloadDrop(afterBytes: k, count: 3)]))
        var got = Data()
        var attempts = 0
        while got.count < file.count, attempts < 10 {
            attempts += 1
            let r = try await Curl.run(url, headers: got.isEmpty ? [:] : ["Range": "bytes=\(got.count)-"])
            #expect(r.status == (got.isEmpty ? 200 : 206))
            got.append(r.body)
            if attempts <= 3 {
                #expect(r.exitCode == 18, "transfer closed with outstanding data")
                #expect(r.body.count == k)
            }
        }
        #expect(attempts == 4)
        #expect(got == file)
    }

    @Test func faultsViaTheControlEndpoint() async throws {
        let sim = try await startSim()
        defer { Task { await sim.stop() } }
        let c = Client(sim)
        let body = #"{"http":[{"status":503,"count":1,"retryAfter":3}],"operations":[{"operation":1,"kind":"TIMEOUT","afterObjects":5}]}"#
        let set = try await Curl.run(
            sim.baseURL + "/_sim/faults", method: "POST", headers: ["Content-Type": "application/json"], body: Data(body.utf8))
        #expect(set.status == 200)
        #expect(sim.faults.operations.first?.kind == .timeout)
        let r = try await c.post("{ shop { name } }")
        #expect(r.status == 503)
        #expect(r.header("Retry-After") == "3")
        let id = try #require(try await c.runBulk(orderQuery).id)
        #expect(try await c.wait(id)["errorCode"] as? String == "TIMEOUT")
        let bad = try await Curl.run(sim.baseURL + "/_sim/faults", method: "POST", body: Data(#"{"http":[{"count":1}]}"#.utf8))
        #expect(bad.status == 400)
        #expect(try await Curl.run(sim.baseURL + "/_sim/faults", method: "DELETE").status == 200)
        #expect(sim.faults.isEmpty)
    }
}
