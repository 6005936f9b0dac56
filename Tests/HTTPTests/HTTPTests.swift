import Foundation
import HTTP
import TestSupport
import Testing

/// A deterministic pseudo-random file.
func makeFile(_ size: Int, seed: UInt64 = 42) -> [UInt8] {
    var state = seed
    return (0..<size).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

@Suite("HTTP module over libcurl against a local server")
struct HTTPClientTests {
    let client = HTTPClient()

    @Test("a POST sends method, headers and body; the response body is collected")
    func postRoundTrip() throws {
        let server = try TestHTTPServer { request in
            TestHTTPResponse(status: 201, headers: [("X-Echo", request.header("X-Test") ?? "")], body: request.body.reversed())
        }
        let response = try client.execute(
            HTTPRequest(
                method: .post, url: server.baseURL + "/echo", headers: [("X-Test", "abc"), ("Content-Type", "application/json")],
                body: Array("hello".utf8)))
        #expect(response.status == 201)
        #expect(response.head.header("x-echo") == "abc")
        #expect(response.body == Array("olleh".utf8))
        let seen = try #require(server.requests.first)
        #expect(seen.method == "POST" && seen.path == "/echo" && seen.header("Expect") == nil)
    }

    @Test("the body streams to the callback in several chunks, every byte in order")
    func streaming() throws {
        let file = makeFile(3 << 20)
        let server = try TestHTTPServer { _ in TestHTTPResponse(body: file, chunkSize: 64 << 10) }
        let collected = ByteSink()
        var heads = 0
        try client.stream(
            HTTPRequest(url: server.baseURL + "/big"),
            onHead: { head in
                heads += 1
                #expect(head.status == 200)
            }
        ) { chunk in collected.append(chunk) }
        #expect(heads == 1)
        #expect(collected.chunks > 3)
        #expect(collected.bytes == file)
    }

    @Test("a stalled transfer ends with a timeout error")
    func lowSpeedTimeout() throws {
        let server = try TestHTTPServer { _ in TestHTTPResponse(body: makeFile(1000), delayBeforeBody: .seconds(5)) }
        let started = Date()
        #expect {
            _ = try client.execute(
                HTTPRequest(url: server.baseURL + "/slow", timeouts: HTTPTimeouts(lowSpeedBytesPerSecond: 1, lowSpeedTime: .seconds(1))))
        } throws: { error in
            (error as? HTTPError)?.code == .timeout && (error as? HTTPError)?.isTransient == true
        }
        #expect(Date().timeIntervalSince(started) < 4.5)
        #expect {
            _ = try client.execute(HTTPRequest(url: server.baseURL + "/slow", timeouts: HTTPTimeouts(total: .milliseconds(500))))
        } throws: { error in (error as? HTTPError)?.code == .timeout }
    }

    @Test("a refused connection is a connect error")
    func refused() throws {
        #expect {
            _ = try client.execute(HTTPRequest(url: "http://127.0.0.1:1/x?signature=SECRETSIG"))
        } throws: { error in
            let e = try #require(error as? HTTPError)
            return e.code == .connect && e.isTransient && !e.description.contains("SECRETSIG")
        }
    }

    @Test("only http and https are allowed")
    func schemes() throws {
        #expect(throws: HTTPError.self) { _ = try client.execute(HTTPRequest(url: "file:///etc/passwd")) }
    }

    @Test("a download dropped three times resumes with Range and delivers every byte exactly once")
    func resumedDownload() throws {
        let file = makeFile(2 << 20 + 12345)
        let calls = Counter()
        let server = try TestHTTPServer { request in
            let n = calls.next()
            return TestHTTPResponse.file(file, for: request, dropAfter: n <= 3 ? 300_000 : nil)
        }
        let sink = ByteSink()
        var progress: [DownloadProgress] = []
        let summary = try client.download(
            url: server.baseURL + "/bulk.jsonl?sig=abc",
            policy: DownloadPolicy(initialBackoff: .milliseconds(10)),
            onProgress: { progress.append($0) }
        ) { chunk in sink.append(chunk) }
        #expect(sink.bytes == file)
        #expect(summary.attempts == 4)
        #expect(summary.resumedAt == [300_000, 600_000, 900_000])
        #expect(summary.restarts == 0)
        #expect(summary.totalBytes == Int64(file.count))
        #expect(progress.last?.bytesDelivered == Int64(file.count))
        let ranges = server.requests.map { $0.header("Range") }
        #expect(ranges == [nil, "bytes=300000-", "bytes=600000-", "bytes=900000-"])
    }

    @Test("a server that ignores Range makes a clean restart; bytes already delivered are not delivered again")
    func ignoredRange() throws {
        let file = makeFile(1 << 20)
        let calls = Counter()
        let server = try TestHTTPServer { request in
            let n = calls.next()
            return TestHTTPResponse.file(file, for: request, honourRange: false, dropAfter: n == 1 ? 400_000 : nil)
        }
        let sink = ByteSink()
        let summary = try client.download(url: server.baseURL + "/f", policy: DownloadPolicy(initialBackoff: .milliseconds(10))) {
            sink.append($0)
        }
        #expect(sink.bytes == file)
        #expect(summary.restarts == 1)
        #expect(server.requests.count == 2)
        #expect(server.requests[1].header("Range") == "bytes=400000-")
    }

    @Test("a download from an offset asks for the rest only")
    func downloadFromOffset() throws {
        let file = makeFile(100_000)
        let server = try TestHTTPServer { TestHTTPResponse.file(file, for: $0) }
        let sink = ByteSink()
        let summary = try client.download(url: server.baseURL + "/f", from: 60_000) { sink.append($0) }
        #expect(sink.bytes == Array(file[60_000...]))
        #expect(summary.bytesDelivered == 100_000)
    }

    @Test("an error status is not retried and is reported with its status")
    func errorStatus() throws {
        let server = try TestHTTPServer { _ in TestHTTPResponse(status: 403, body: Array("expired".utf8)) }
        #expect {
            _ = try client.download(url: server.baseURL + "/gone?X-Goog-Signature=abc") { _ in }
        } throws: { error in
            let e = try #require(error as? HTTPError)
            return e.status == 403 && !e.isTransient && !e.description.contains("X-Goog-Signature")
        }
        #expect(server.requests.count == 1)
    }

    @Test("retries are bounded when the server keeps failing")
    func boundedRetries() throws {
        let server = try TestHTTPServer { _ in TestHTTPResponse(status: 503) }
        #expect {
            _ = try client.download(
                url: server.baseURL + "/f", policy: DownloadPolicy(maxAttemptsWithoutProgress: 3, initialBackoff: .milliseconds(5))
            ) { _ in }
        } throws: { error in (error as? HTTPError)?.code == .retriesExhausted }
        #expect(server.requests.count == 3)
    }

    @Test("an error thrown by the consumer stops the transfer and is passed through")
    func consumerError() throws {
        struct Stop: Error {}
        let server = try TestHTTPServer { _ in TestHTTPResponse(body: makeFile(1 << 20), chunkSize: 4096) }
        #expect {
            try client.stream(HTTPRequest(url: server.baseURL + "/f")) { _ in throw Stop() }
        } throws: { error in
            let e = try #require(error as? HTTPError)
            return e.code == .aborted && e.underlying is Stop
        }
    }

    @Test("async execute works from a task")
    func asyncExecute() async throws {
        let server = try TestHTTPServer { _ in TestHTTPResponse(body: Array("ok".utf8)) }
        let response = try await client.execute(HTTPRequest(url: server.baseURL + "/"))
        #expect(response.body == Array("ok".utf8))
    }
}

final class ByteSink: @unchecked Sendable {
    var bytes: [UInt8] = []
    var chunks = 0
    func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: chunk)
        chunks += 1
    }
}
