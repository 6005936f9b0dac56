internal import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// `curl_global_init`, run exactly once per process (Swift initialises globals lazily and atomically).
private let curlGlobalInitResult: Int = Int(curl_global_init(Int(CURL_GLOBAL_DEFAULT)).rawValue)

/// One libcurl easy handle: the single choke point where every `CURLcode` becomes an `HTTPError`.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    let url: String
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var errorBuffer: UnsafeMutablePointer<CChar>
    /// Strings libcurl only borrows must outlive the transfer.
    private var keptStrings: [UnsafeMutablePointer<CChar>] = []
    private var bodyStorage: UnsafeMutableRawPointer?

    init(url: String) throws(HTTPError) {
        guard curlGlobalInitResult == 0 else {
            throw HTTPError(code: .setup, curlCode: curlGlobalInitResult, message: "curl_global_init failed", url: url)
        }
        guard let handle = curl_easy_init() else {
            throw HTTPError(code: .setup, message: "curl_easy_init returned no handle", url: url)
        }
        self.handle = handle
        self.url = url
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try check(sb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        for s in keptStrings { free(s) }
        bodyStorage?.deallocate()
        errorBuffer.deallocate()
    }

    /// Turns a `CURLcode` into an `HTTPError` (or nothing for `CURLE_OK`).
    func check(_ code: CURLcode, _ what: String) throws(HTTPError) {
        guard code != CURLE_OK else { return }
        throw HTTPError(code: .setup, curlCode: Int(code.rawValue), message: "\(what): \(Self.describe(code))", url: url)
    }

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    func set(_ option: CURLoption, _ value: Int, _ what: String) throws(HTTPError) {
        try check(sb_curl_setopt_long(handle, option, value), what)
    }

    func set(_ option: CURLoption, string value: String, _ what: String) throws(HTTPError) {
        guard let copy = strdup(value) else {
            throw HTTPError(code: .setup, message: "out of memory for \(what)", url: url)
        }
        keptStrings.append(copy)
        try check(sb_curl_setopt_string(handle, option, copy), what)
    }

    func setHeaders(_ headers: [(name: String, value: String)]) throws(HTTPError) {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in headers {
            // "Name:" with no value tells libcurl to drop a header it would add itself.
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            guard let next = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw HTTPError(code: .setup, message: "curl_slist_append failed", url: url)
            }
            list = next
        }
        headerList = list
        try check(sb_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
    }

    func setBody(_ body: [UInt8]) throws(HTTPError) {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
        body.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: body.count) }
        bodyStorage = storage
        try check(sb_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
        try check(sb_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, storage), "CURLOPT_POSTFIELDS")
    }

    func setCallbacks(context: UnsafeMutableRawPointer) throws(HTTPError) {
        try check(sb_curl_setopt_data_fn(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback), "CURLOPT_WRITEFUNCTION")
        try check(sb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
        try check(sb_curl_setopt_data_fn(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback), "CURLOPT_HEADERFUNCTION")
        try check(sb_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
    }

    /// Has libcurl ask `context`'s abort signal about once a second and whenever data moves, so that
    /// a stalled transfer stops too (not only one that delivers data).
    func setAbortCallback(context: UnsafeMutableRawPointer) throws(HTTPError) {
        try check(sb_curl_setopt_xferinfo_fn(handle, curlXferInfoCallback), "CURLOPT_XFERINFOFUNCTION")
        try check(sb_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context), "CURLOPT_XFERINFODATA")
        try check(sb_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "CURLOPT_NOPROGRESS")
    }

    /// Runs the transfer. A failing `CURLcode` becomes an `HTTPError` classified for retry decisions.
    func perform() throws(HTTPError) {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        guard code != CURLE_OK else { return }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? Self.describe(code) : detail
        throw HTTPError(code: Self.classify(code), curlCode: Int(code.rawValue), message: message, url: url)
    }

    static func classify(_ code: CURLcode) -> HTTPError.Code {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            return .connect
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK:
            return .aborted
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .badURL
        default:
            return .transfer
        }
    }

    var responseCode: Int {
        var value: Int = 0
        _ = sb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value)  // 0 when unavailable
        return value
    }
}

/// State shared with the C callbacks of one transfer.
final class TransferContext {
    var statusLine: String?
    var headers: [HTTPHeaderField] = []
    var headDelivered = false
    var onHead: (HTTPResponseHead) throws -> Void
    var onBody: (UnsafeRawBufferPointer) throws -> Void
    var thrown: (any Error)?
    weak var easy: CurlEasy?
    var abort: TransferAbort?

    init(onHead: @escaping (HTTPResponseHead) throws -> Void, onBody: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.onHead = onHead
        self.onBody = onBody
    }

    var head: HTTPResponseHead {
        var status = easy?.responseCode ?? 0
        if status == 0, let line = statusLine {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let s = Int(parts[1]) { status = s }
        }
        return HTTPResponseHead(status: status, headers: headers)
    }

    func deliverHeadIfNeeded() throws {
        if !headDelivered {
            headDelivered = true
            try onHead(head)
        }
    }
}

private func curlXferInfoCallback(
    _ userdata: UnsafeMutableRawPointer?, _ dltotal: curl_off_t, _ dlnow: curl_off_t, _ ultotal: curl_off_t, _ ulnow: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    return context.abort?.isSet == true ? 1 : 0
}

private func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    do {
        try context.deliverHeadIfNeeded()
        if length > 0, let data {
            try context.onBody(UnsafeRawBufferPointer(start: data, count: length))
        }
        return length
    } catch {
        context.thrown = error
        return 0  // makes libcurl stop with CURLE_WRITE_ERROR
    }
}

private func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata, let data else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let raw = UnsafeRawBufferPointer(start: data, count: length)
    var line = String(decoding: raw, as: UTF8.self)
    while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
    if line.hasPrefix("HTTP/") {
        // A new response (after a redirect or 100 Continue): forget the previous one's fields.
        context.statusLine = line
        context.headers = []
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[line.startIndex..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
        context.headers.append(HTTPHeaderField(name: name, value: value))
    }
    return length
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
