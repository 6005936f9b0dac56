import FlyingFox
import Foundation

/// HTTP front of the core: the shop listener (GraphQL, OAuth, control) and the storage listener.
final class Router: Sendable {
    let core: ShopifySimulatorCore
    var state: SimulatorState { core.state }

    init(core: ShopifySimulatorCore) { self.core = core }

    static let invalidToken = #"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#

    func json(_ status: Int, _ body: [UInt8], _ extra: [(String, String)] = []) -> HTTPResponse {
        var h = HTTPHeaders()
        h[HTTPHeader("Content-Type")] = "application/json; charset=utf-8"
        for (k, v) in extra { h[HTTPHeader(k)] = v }
        return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: Router.phrase(status)), headers: h, body: Data(body))
    }

    func json(_ status: Int, _ text: String, _ extra: [(String, String)] = []) -> HTTPResponse { json(status, Array(text.utf8), extra) }

    static func phrase(_ s: Int) -> String {
        switch s {
        case 200: return "OK"
        case 206: return "Partial Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 416: return "Range Not Satisfiable"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status \(s)"
        }
    }

    // MARK: recording

    static let secretHeaders: Set<String> = ["x-shopify-access-token", "authorization", "cookie", "proxy-authorization"]

    func record(_ req: HTTPRequest, body: Data, listener: String, status: Int) {
        var headers: [[String]] = []
        for (k, v) in req.headers {
            headers.append([k.rawValue, Router.secretHeaders.contains(k.rawValue.lowercased()) ? "[REDACTED]" : v])
        }
        headers.sort { $0[0].lowercased() < $1[0].lowercased() }
        let query = req.target.rawValue.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let r = RecordedRequest(
            time: state.clock.now(), method: req.method.rawValue, path: req.path, query: query, listener: listener,
            port: listener == "api" ? state.apiPort : state.filesPort, host: req.headers[HTTPHeader("Host")],
            headers: headers, body: Router.redactedBody(body), status: status)
        if state.config.logRequests {
            FileHandle.standardError.write(Data("[shopify-sim] \(r.method) \(r.path) → \(status)\n".utf8))
        }
        state.locked {
            state.requests.append(r)
            // A long-running simulator keeps the latest 100,000 requests.
            if state.requests.count > 100_000 { state.requests.removeFirst(state.requests.count - 100_000) }
        }
    }

    static func redactedBody(_ body: Data) -> String? {
        guard !body.isEmpty else { return nil }
        var text = String(decoding: body.prefix(65536), as: UTF8.self)
        for key in ["client_secret", "access_token", "refresh_token"] {
            // form encoding
            while let r = text.range(of: "\(key)="), !text[r.upperBound...].hasPrefix("[REDACTED]") {
                let end = text[r.upperBound...].firstIndex(of: "&") ?? text.endIndex
                text.replaceSubrange(r.upperBound..<end, with: "[REDACTED]")
            }
            // JSON
            if let r = text.range(of: "\"\(key)\""), let colon = text[r.upperBound...].firstIndex(of: ":"),
                let q1 = text[text.index(after: colon)...].firstIndex(of: "\""),
                let q2 = text[text.index(after: q1)...].firstIndex(of: "\"")
            {
                text.replaceSubrange(text.index(after: q1)..<q2, with: "[REDACTED]")
            }
        }
        return text
    }

    // MARK: shop listener

    func api(_ req: HTTPRequest) async throws -> HTTPResponse {
        if req.path.hasPrefix("/_sim/") || req.path == "/_sim" { return try await control(req) }
        let body = try await req.bodyData
        let response = await route(req, body: body)
        record(req, body: body, listener: "api", status: response.statusCode.code)
        return response
    }

    private func route(_ req: HTTPRequest, body: Data) async -> HTTPResponse {
        if req.path == "/admin/oauth/access_token" {
            guard req.method == .POST else { return json(405, #"{"errors":"Method Not Allowed"}"#) }
            return oauth(req, body: body)
        }
        let parts = req.path.split(separator: "/")
        if parts.count == 4, parts[0] == "admin", parts[1] == "api", parts[3] == "graphql.json" {
            guard req.method == .POST else { return json(405, #"{"errors":"Method Not Allowed"}"#) }
            return await graphql(req, versionText: String(parts[2]), body: body)
        }
        return json(404, #"{"errors":"Not Found"}"#)
    }

    private func oauth(_ req: HTTPRequest, body: Data) -> HTTPResponse {
        var params: [String: String] = [:]
        let contentType = req.headers[HTTPHeader("Content-Type")] ?? ""
        if contentType.contains("json"), let o = JSONValue.parse(body)?.object {
            for (k, v) in o { params[k] = v.string }
        } else {
            for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                if kv.count == 2 { params[kv[0]] = kv[1] } else if kv.count == 1 { params[kv[0]] = "" }
            }
        }
        switch core.clientCredentialsGrant(
            grantType: params["grant_type"], clientId: params["client_id"], clientSecret: params["client_secret"])
        {
        case .success(let t):
            var w = JSONWriter()
            w.beginObject(); w.field("access_token", t.token); w.field("scope", t.scope); w.field("expires_in", t.expiresIn); w.endObject()
            return json(200, w.bytes)
        case .failure(let e):
            var w = JSONWriter()
            w.beginObject(); w.field("error", e.error); w.field("error_description", e.description); w.endObject()
            return json(e.status, w.bytes)
        }
    }

    private func graphql(_ req: HTTPRequest, versionText: String, body: Data) async -> HTTPResponse {
        guard var version = APIVersion(versionText) else { return json(404, #"{"errors":"Not Found"}"#) }
        if let oldest = state.config.oldestAccessibleVersion.flatMap(APIVersion.init), version < oldest { version = oldest }
        let requestId = UUID().uuidString.lowercased()
        let headers: [(String, String)] = [("X-Shopify-API-Version", version.text), ("X-Request-Id", requestId)]

        let fault = state.locked { state.nextHTTPFault(body: body) }
        if let fault, !fault.afterProcessing { return failure(fault, headers) }
        let answer = await execute(req, version: version, body: body, headers: headers)
        if let fault { return failure(fault, headers) }
        return answer
    }

    /// The error answer of an HTTP fault.
    private func failure(_ fault: HTTPFault, _ headers: [(String, String)]) -> HTTPResponse {
        var headers = headers
        if let ra = fault.retryAfter { headers.append(("Retry-After", String(ra))) }
        let text: String
        switch fault.status {
        case 429:
            text = #"{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}"#
        case 503: text = #"{"errors":"Service Unavailable"}"#
        case 502: text = #"{"errors":"Bad Gateway"}"#
        default: text = #"{"errors":"Internal Server Error"}"#
        }
        return json(fault.status, text, headers)
    }

    /// Authenticates and runs a GraphQL request.
    private func execute(_ req: HTTPRequest, version: APIVersion, body: Data, headers: [(String, String)]) async -> HTTPResponse {
        var headers = headers
        let app: SimulatedApp
        switch core.authenticate(token: req.headers[HTTPHeader("X-Shopify-Access-Token")]) {
        case .success(let a): app = a
        case .failure: return json(401, Router.invalidToken, headers)
        }
        var query: String?
        var variables: [String: ArgValue] = [:]
        var operationName: String?
        let contentType = req.headers[HTTPHeader("Content-Type")] ?? ""
        if contentType.contains("application/graphql") {
            query = String(decoding: body, as: UTF8.self)
        } else if let o = JSONValue.parse(body)?.object {
            query = o["query"]?.string
            operationName = o["operationName"]?.string
            if let vars = o["variables"]?.object { variables = vars.mapValues { ArgValue.from(json: $0) } }
        }
        guard let query, !query.isEmpty else {
            return json(400, #"{"errors":{"query":"Required parameter missing or invalid"}}"#, headers)
        }
        if let sdl = state.sdl, SDLSchema.isIntrospection(query) {
            // Introspection is answered from the real schema (validated by it first).
            if let errors = sdl.validate(query), !errors.isEmpty { return json(200, AdminExecutor.errorsOnly(errors), headers) }
            return json(200, sdl.introspect(query, variables: variables, operationName: operationName), headers)
        }
        var executor = AdminExecutor(state: state, app: app, version: version, simulator: core)
        let outcome = executor.run(query: query, variables: variables, operationName: operationName)
        if !outcome.deprecatedReasons.isEmpty {
            headers.append(
                (
                    "X-Shopify-API-Deprecated-Reason",
                    outcome.deprecatedReasons.map { "\($0) is deprecated (https://shopify.dev/api/usage/versioning#deprecation-practices)" }
                        .joined(separator: ", ")
                ))
        }
        return json(200, outcome.body, headers)
    }

    // MARK: storage listener

    func files(_ req: HTTPRequest) async throws -> HTTPResponse {
        let body = try await req.bodyData
        let response = download(req)
        record(req, body: body, listener: "files", status: response.statusCode.code)
        return response
    }

    private func xml(_ status: Int, code: String, message: String, details: String? = nil) -> HTTPResponse {
        var text = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>\(code)</Code><Message>\(message)</Message>"
        if let details { text += "<Details>\(details)</Details>" }
        text += "</Error>"
        var h = HTTPHeaders()
        h[HTTPHeader("Content-Type")] = "application/xml; charset=UTF-8"
        return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: Router.phrase(status)), headers: h, body: Data(text.utf8))
    }

    private func download(_ req: HTTPRequest) -> HTTPResponse {
        guard req.method == .GET || req.method == .HEAD else { return xml(405, code: "MethodNotAllowed", message: "Method not allowed.") }
        let name = req.path.split(separator: "/").last.map(String.init) ?? ""
        guard req.path.hasPrefix("/bulk/"), name.hasSuffix(".jsonl") else {
            return xml(404, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        let stem = name.dropLast(".jsonl".count)
        let partial = stem.hasSuffix("-partial")
        guard let number = Int(partial ? stem.dropLast("-partial".count) : stem) else {
            return xml(404, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        guard let expires = req.query.first(where: { $0.name == "expires" }).flatMap({ Int($0.value) }),
            let signature = req.query.first(where: { $0.name == "signature" })?.value,
            signature == state.signature(path: req.path, expires: expires)
        else {
            return xml(
                403, code: "SignatureDoesNotMatch", message: "Access denied.",
                details: "The request signature we calculated does not match the signature you provided.")
        }
        let now = state.clock.now()
        let file: URL? = state.locked {
            guard let op = state.operation(number: number) else { return nil }
            state.expireIfNeeded(op, now: now)
            return op.file
        }
        if Double(expires) < now {
            return xml(403, code: "ExpiredToken", message: "Access denied.", details: "Request has expired: \(expires)")
        }
        guard let file, let attrs = try? FileManager.default.attributesOfItem(atPath: file.path),
            let size = (attrs[.size] as? NSNumber)?.intValue
        else {
            return xml(404, code: "NoSuchKey", message: "The specified key does not exist.")
        }
        var range = 0..<size
        var status = 200
        var headers = HTTPHeaders()
        headers[HTTPHeader("Content-Type")] = "application/jsonl"
        headers[HTTPHeader("Accept-Ranges")] = "bytes"
        headers[HTTPHeader("ETag")] = "\"\(String(number, radix: 16))-\(String(size, radix: 16))\""
        if let r = req.headers[HTTPHeader("Range")] {
            switch Router.parseRange(r, size: size) {
            case .some(.some(let rr)):
                range = rr
                status = 206
                headers[HTTPHeader("Content-Range")] = "bytes \(rr.lowerBound)-\(rr.upperBound - 1)/\(size)"
            case .some(.none):
                headers[HTTPHeader("Content-Range")] = "bytes */\(size)"
                return HTTPResponse(statusCode: HTTPStatusCode(416, phrase: Router.phrase(416)), headers: headers, body: Data())
            case .none:
                break  // malformed Range: ignored, whole file
            }
        }
        if req.method == .HEAD {
            headers[HTTPHeader("Content-Length")] = String(range.count)
            return HTTPResponse(statusCode: HTTPStatusCode(status, phrase: Router.phrase(status)), headers: headers, body: Data())
        }
        let drop = state.locked { state.nextDownloadDrop() }
        let body = FileRangeBody(url: file, range: range, dropAfter: drop)
        return HTTPResponse(
            statusCode: HTTPStatusCode(status, phrase: Router.phrase(status)), headers: headers,
            body: HTTPBodySequence(from: body, count: range.count, suggestedBufferSize: 64 * 1024))
    }

    /// nil: malformed (ignore); .some(nil): unsatisfiable; .some(range).
    static func parseRange(_ header: String, size: Int) -> Range<Int>?? {
        let h = header.trimmingCharacters(in: .whitespaces)
        guard h.hasPrefix("bytes=") else { return nil }
        let spec = h.dropFirst(6).split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return nil }
        if parts[0].isEmpty {
            guard let n = Int(parts[1]), n > 0 else { return .some(nil) }
            return size == 0 ? .some(nil) : .some(max(0, size - n)..<size)
        }
        guard let a = Int(parts[0]), a >= 0 else { return nil }
        if a >= size { return .some(nil) }
        if parts[1].isEmpty { return .some(a..<size) }
        guard let b = Int(parts[1]), b >= a else { return nil }
        return .some(a..<min(b + 1, size))
    }
}
