import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A request as the test server saw it.
public struct TestHTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What the test server answers.
public struct TestHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Close the connection after this many body bytes (a dropped download).
    public var dropAfter: Int?
    /// Wait this long before sending the body (to trigger timeouts).
    public var delayBeforeBody: Duration?
    /// Send the body in pieces of this size, pausing `pause` between them.
    public var chunkSize: Int
    public var pause: Duration?

    public init(
        status: Int = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = [], dropAfter: Int? = nil,
        delayBeforeBody: Duration? = nil, chunkSize: Int = 16 << 10, pause: Duration? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.dropAfter = dropAfter
        self.delayBeforeBody = delayBeforeBody
        self.chunkSize = chunkSize
        self.pause = pause
    }

    /// Serves `file`, honouring a `Range: bytes=N-` header when `honourRange` is set.
    public static func file(_ file: [UInt8], for request: TestHTTPRequest, honourRange: Bool = true, dropAfter: Int? = nil)
        -> TestHTTPResponse
    {
        if honourRange, let range = request.header("Range"), range.hasPrefix("bytes="),
            let start = Int(range.dropFirst(6).split(separator: "-").first ?? "")
        {
            if start >= file.count {
                return TestHTTPResponse(status: 416, headers: [("Content-Range", "bytes */\(file.count)")])
            }
            return TestHTTPResponse(
                status: 206, headers: [("Content-Range", "bytes \(start)-\(file.count - 1)/\(file.count)"), ("ETag", "\"v1\"")],
                body: Array(file[start...]), dropAfter: dropAfter)
        }
        return TestHTTPResponse(status: 200, headers: [("ETag", "\"v1\"")], body: file, dropAfter: dropAfter)
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 for tests of the HTTP module: one thread per connection,
/// `Connection: close`, every request recorded.
public final class TestHTTPServer: @unchecked Sendable {
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let handler: @Sendable (TestHTTPRequest) -> TestHTTPResponse
    private let lock = NSLock()
    private var recorded: [TestHTTPRequest] = []
    private var stopped = false

    public init(handler: @escaping @Sendable (TestHTTPRequest) -> TestHTTPResponse) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestEnvironmentError(message: "socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw TestEnvironmentError(message: "bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    public var requests: [TestHTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func stop() {
        lock.lock()
        let was = stopped
        stopped = true
        lock.unlock()
        if !was {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        while headerEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = find(buffer, [13, 10, 13, 10])
        }
        let headText = String(decoding: buffer[0..<headerEnd!], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(buffer[(headerEnd! + 4)...])
        let length = Int(headers.first { $0.name.lowercased() == "content-length" }?.value ?? "0") ?? 0
        while body.count < length {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let request = TestHTTPRequest(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
        lock.lock()
        recorded.append(request)
        lock.unlock()

        let response = handler(request)
        var head = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        guard writeAll(fd, Array(head.utf8)) else { return }
        if let delay = response.delayBeforeBody { Thread.sleep(forTimeInterval: delay.seconds) }
        let limit = min(response.body.count, response.dropAfter ?? Int.max)
        var sent = 0
        while sent < limit {
            let end = min(limit, sent + response.chunkSize)
            guard writeAll(fd, Array(response.body[sent..<end])) else { return }
            sent = end
            if let pause = response.pause { Thread.sleep(forTimeInterval: pause.seconds) }
        }
        if response.dropAfter != nil && limit < response.body.count {
            // Drop the connection mid-body: the client sees fewer bytes than Content-Length.
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }

    private func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 206: return "Partial Content"
        case 404: return "Not Found"
        case 416: return "Range Not Satisfiable"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
