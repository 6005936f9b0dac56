import Foundation

/// Executes one (non-bulk) GraphQL request for an app: the bulk-operation API, the app
/// installation, and small paged reads of customers and orders.
struct AdminExecutor {
    let state: SimulatorState
    let app: SimulatedApp
    let version: APIVersion
    let simulator: ShopifySimulatorCore
    var errors: [GQLError] = []
    var usedDeprecated: [String] = []
    private var pathRoot = "query"

    init(state: SimulatorState, app: SimulatedApp, version: APIVersion, simulator: ShopifySimulatorCore) {
        self.state = state
        self.app = app
        self.version = version
        self.simulator = simulator
    }

    struct Outcome {
        var body: [UInt8]
        var deprecatedReasons: [String]
    }

    /// Runs the request; the result is the whole JSON response body.
    mutating func run(query: String, variables: [String: ArgValue], operationName: String?) -> Outcome {
        let parsed: ParsedOperation
        switch DocumentParser.parse(query, variables: variables, operationName: operationName) {
        case .failure(let e): return Outcome(body: Self.errorsOnly([e]), deprecatedReasons: [])
        case .success(let p): parsed = p
        }
        pathRoot = parsed.pathRoot
        if let sdl = state.sdl, let errors = sdl.validate(query), !errors.isEmpty {
            return Outcome(body: Self.errorsOnly(errors), deprecatedReasons: [])
        }
        var compiler = SelectionCompiler(version: version.value, sdl: state.sdl)
        let fields = compiler.compile(parsed.selections, on: parsed.isMutation ? "Mutation" : "QueryRoot", path: [parsed.pathRoot])
        if !compiler.errors.isEmpty { return Outcome(body: Self.errorsOnly(compiler.errors), deprecatedReasons: []) }
        usedDeprecated = compiler.deprecatedUsed
        if let sdl = state.sdl, version.value >= 202504 {
            for d in sdl.deprecatedFields(query) where !usedDeprecated.contains(d) { usedDeprecated.append(d) }
        }

        let requested = parsed.isMutation ? 10.0 : max(1.0, Double(Self.cost(fields)))
        let now = state.clock.now()
        let (available, ok) = state.locked { state.spend(app: app.name, cost: requested, now: now) }
        let throttle = state.config.throttle
        var w = JSONWriter(capacity: 2048)
        if !ok {
            w.beginObject()
            w.key("errors"); w.beginArray()
            GQLError(
                message: "Throttled",
                extensions: [("code", "THROTTLED"), ("documentation", "https://shopify.dev/api/usage/limits#rate-limits")]
            ).write(&w)
            w.endArray()
            Self.writeCost(&w, requested: requested, actual: nil, available: available, throttle: throttle)
            w.endObject()
            return Outcome(body: w.bytes, deprecatedReasons: [])
        }
        w.beginObject()
        w.key("data")
        w.beginObject()
        for f in fields {
            w.key(f.key)
            if parsed.isMutation { mutationField(f, &w) } else { queryField(f, &w) }
        }
        w.endObject()
        if !errors.isEmpty {
            w.key("errors"); w.beginArray(); for e in errors { e.write(&w) }; w.endArray()
        }
        Self.writeCost(&w, requested: requested, actual: requested, available: available, throttle: throttle)
        w.endObject()
        return Outcome(body: w.bytes, deprecatedReasons: usedDeprecated)
    }

    static func errorsOnly(_ errors: [GQLError]) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject(); w.key("errors"); w.beginArray()
        for e in errors { e.write(&w) }
        w.endArray(); w.endObject()
        return w.bytes
    }

    static func writeCost(_ w: inout JSONWriter, requested: Double, actual: Double?, available: Double, throttle: ThrottleConfig) {
        w.key("extensions"); w.beginObject()
        w.key("cost"); w.beginObject()
        w.key("requestedQueryCost"); w.int(Int(requested))
        w.key("actualQueryCost"); if let actual { w.int(Int(actual)) } else { w.null() }
        w.key("throttleStatus"); w.beginObject()
        w.key("maximumAvailable"); w.double(throttle.maximumAvailable)
        w.key("currentlyAvailable"); w.int(Int(available.rounded(.down)))
        w.key("restoreRate"); w.double(throttle.restoreRate)
        w.endObject(); w.endObject(); w.endObject()
    }

    /// Shopify-like calculated cost: objects 1, connections 2 + page size × node cost, scalars 0.
    static func cost(_ fields: [CField]) -> Int {
        var total = 0
        for f in fields {
            switch f.def.kind {
            case .scalar, .scalarList: break
            case .object, .objectList:
                let sub = f.children.isEmpty ? (f.childrenByType.values.map(cost).max() ?? 0) : cost(f.children)
                total += 1 + sub
            case .connection:
                let n = f.arg("first")?.int ?? f.arg("last")?.int ?? 10
                total += 2 + n * max(1, cost(BulkRules.nodeSelection(of: f)))
            }
        }
        return total
    }

    private mutating func error(_ message: String, _ f: CField, path: [String], code: String? = nil) {
        errors.append(
            GQLError(
                message: message, locations: [.init(line: f.line, column: f.column)], path: path,
                extensions: code.map { [("code", $0)] } ?? []))
    }

    private func hasScope(_ s: String) -> Bool {
        app.scopes.contains(s) || (s.hasPrefix("read_") && app.scopes.contains("write_" + s.dropFirst(5)))
    }

    // MARK: Query root

    private mutating func queryField(_ f: CField, _ w: inout JSONWriter) {
        let now = state.clock.now()
        switch f.name {
        case "__typename": w.string("QueryRoot")
        case "bulkOperation":
            let n = Self.number(of: f.arg("id")?.string, type: "BulkOperation")
            if let v = state.locked({ () -> BulkOpView? in
                guard let n, let op = state.operation(number: n), op.app == app.name else { return nil }
                return state.view(op, now: now)
            }) {
                writeBulkOp(f.children, v, &w)
            } else {
                w.null()
            }
        case "currentBulkOperation":
            let type = f.arg("type")?.string ?? "QUERY"
            if type == "QUERY",
                let v = state.locked({ () -> BulkOpView? in
                    guard let op = state.operations.last(where: { $0.app == app.name }) else { return nil }
                    return state.view(op, now: now)
                })
            {
                writeBulkOp(f.children, v, &w)
            } else {
                w.null()
            }
        case "bulkOperations":
            writeBulkOperations(f, &w, now: now)
        case "node":
            writeNode(f, id: f.arg("id")?.string, &w, path: [f.key])
        case "nodes":
            w.beginArray()
            if case .list(let ids)? = f.arg("ids") {
                for (i, id) in ids.enumerated() { writeNode(f, id: id.string, &w, path: [f.key, String(i)]) }
            }
            w.endArray()
        case "currentAppInstallation":
            w.beginObject()
            for g in f.children {
                w.key(g.key)
                switch g.name {
                case "__typename": w.string("AppInstallation")
                case "id": w.string("gid://shopify/AppInstallation/\(abs(app.name.hashValue % 100_000))")
                case "accessScopes":
                    w.beginArray()
                    for s in app.scopes {
                        w.beginObject()
                        for h in g.children {
                            w.key(h.key)
                            switch h.name {
                            case "__typename": w.string("AccessScope")
                            case "handle": w.string(s)
                            case "description": w.string("Access to \(s.replacingOccurrences(of: "_", with: " "))")
                            default: w.unmodelled(h)
                            }
                        }
                        w.endObject()
                    }
                    w.endArray()
                default: w.unmodelled(g)
                }
            }
            w.endObject()
        case "shop":
            w.beginObject()
            for g in f.children {
                w.key(g.key)
                switch g.name {
                case "__typename": w.string("Shop")
                case "id": w.string("gid://shopify/Shop/1")
                case "name": w.string(state.config.shopName)
                case "myshopifyDomain": w.string("\(state.config.shopName).myshopify.com")
                case "currencyCode": w.string("EUR")
                case "email": w.string("owner@\(state.config.shopName).example")
                default: w.unmodelled(g)
                }
            }
            w.endObject()
        case "customers", "orders":
            let kind: ResourceKind = f.name == "customers" ? .customer : .order
            let scope = kind == .customer ? "read_customers" : "read_orders"
            guard hasScope(scope) else {
                w.null()
                error(
                    "Access denied for \(f.name) field. Required access: `\(scope)` access scope.", f, path: [f.key], code: "ACCESS_DENIED")
                return
            }
            let snapshot = state.locked { state.shop }
            if let sk = f.arg("sortKey")?.string, !ShopQuery.validSortKeys(kind).contains(sk) {
                w.null()
                error(
                    "Argument 'sortKey' on Field '\(f.name)' has an invalid value (\(sk)). Expected type '\(ShopQuery.sortKeyEnumName(kind))'.",
                    f, path: [f.key], code: "argumentLiteralsIncompatible")
                return
            }
            let q = ShopQuery(
                snapshot: snapshot, kind: kind, search: SearchQuery.parse(f.arg("query")?.string),
                sortKey: f.arg("sortKey")?.string, reverse: f.arg("reverse")?.bool ?? false)
            writeRecordConnection(f, indices: q.all(), kind: kind, snapshot: snapshot, &w, path: [f.key])
        case "customer", "order":
            writeNode(f, id: f.arg("id")?.string, &w, path: [f.key])
        default: w.unmodelled(f)
        }
    }

    static func number(of gid: String?, type: String) -> Int? {
        guard let gid, gid.hasPrefix("gid://shopify/\(type)/") else { return nil }
        let tail = gid.dropFirst("gid://shopify/\(type)/".count).prefix { $0 != "?" }
        return Int(tail)
    }

    private mutating func writeNode(_ f: CField, id: String?, _ w: inout JSONWriter, path: [String]) {
        guard let id, id.hasPrefix("gid://shopify/") else {
            w.null()
            if id != nil { error("Invalid global id '\(id!)'", f, path: path, code: "argumentLiteralsIncompatible") }
            return
        }
        let type = String(id.dropFirst("gid://shopify/".count).prefix { $0 != "/" })
        let sel = f.def.type == "Node" ? f.selection(for: type) : f.children
        if f.def.type != "Node", f.def.type != type { w.null(); return }
        let snapshot = state.locked { state.shop }
        let rw = RecordWriter(snapshot: snapshot, bulk: false, connectionWriter: nestedConnectionWriter(snapshot))
        switch type {
        case "BulkOperation":
            let now = state.clock.now()
            if let n = Self.number(of: id, type: type),
                let v = state.locked({ () -> BulkOpView? in
                    guard let op = state.operation(number: n), op.app == app.name else { return nil }
                    return state.view(op, now: now)
                })
            {
                writeBulkOp(sel, v, &w)
            } else {
                w.null()
            }
        case "Customer":
            guard hasScope("read_customers") else {
                w.null();
                error(
                    "Access denied for customer field. Required access: `read_customers` access scope.", f, path: path,
                    code: "ACCESS_DENIED");
                return
            }
            if let n = Self.number(of: id, type: type), let c = snapshot.customer(id: Int64(n)) {
                rw.writeCustomer(sel, c, &w)
            } else {
                w.null()
            }
        case "Order":
            guard hasScope("read_orders") else {
                w.null();
                error("Access denied for order field. Required access: `read_orders` access scope.", f, path: path, code: "ACCESS_DENIED");
                return
            }
            if let n = Self.number(of: id, type: type), let o = snapshot.order(id: Int64(n)) { rw.writeOrder(sel, o, &w) } else { w.null() }
        case "LineItem":
            guard hasScope("read_orders") else {
                w.null();
                error(
                    "Access denied for lineItem field. Required access: `read_orders` access scope.", f, path: path, code: "ACCESS_DENIED");
                return
            }
            if let n = Self.number(of: id, type: type) {
                let k = Int64(n) - ShopGenerator.lineItemIdBase - 1
                if k >= 0, let o = snapshot.order(at: Int(k / 4)), let li = o.lineItems.first(where: { $0.id == Int64(n) }) {
                    rw.writeLineItem(sel, li, &w)
                } else {
                    w.null()
                }
            } else {
                w.null()
            }
        default:
            w.null()
        }
    }

    /// Writes nested connections (`lineItems`, `addressesV2`, `Customer.orders`) in normal queries.
    private func nestedConnectionWriter(_ snapshot: ShopSnapshot) -> (CField, RecordWriter.ConnectionOwner, inout JSONWriter) -> Void {
        { f, owner, w in
            let rw = RecordWriter(snapshot: snapshot, bulk: false, connectionWriter: nil)
            switch owner {
            case .order(let o):
                if f.name == "discountApplications" {
                    let apps = o.discountApplications
                    AdminExecutor.writeConnection(f, count: apps.count, cursor: { "da:\(o.id):\($0)" }, &w, byType: { apps[$0].typename }) {
                        i, sel, w in rw.writeDiscountApplication(sel, apps[i], &w)
                    }
                    return
                }
                if f.name == "metafields" {
                    let ms = MetafieldSelection.many(o.metafields, namespace: f.arg("namespace")?.string, keys: f.arg("keys")?.stringList)
                    AdminExecutor.writeConnection(f, count: ms.count, cursor: { "mf:\(ms[$0].id)" }, &w) { i, sel, w in
                        rw.writeMetafield(sel, ms[i], &w)
                    }
                    return
                }
                let items = Array(o.lineItems.indices)
                AdminExecutor.writeConnection(f, count: items.count, cursor: { "li:\(o.lineItems[items[$0]].id)" }, &w) { i, sel, w in
                    rw.writeLineItem(sel, o.lineItems[items[i]], &w)
                }
            case .customer(let c):
                if f.name == "metafields" {
                    let ms = MetafieldSelection.many(c.metafields, namespace: f.arg("namespace")?.string, keys: f.arg("keys")?.stringList)
                    AdminExecutor.writeConnection(f, count: ms.count, cursor: { "mf:\(ms[$0].id)" }, &w) { i, sel, w in
                        rw.writeMetafield(sel, ms[i], &w)
                    }
                } else if f.name == "addressesV2" {
                    AdminExecutor.writeConnection(f, count: c.addresses.count, cursor: { "ad:\(c.addresses[$0].id)" }, &w) { i, sel, w in
                        rw.writeAddress(sel, c.addresses[i], &w)
                    }
                } else {
                    let idx = snapshot.orderIndices(ofCustomer: c.index)
                    AdminExecutor.writeConnection(f, count: idx.count, cursor: { "o:\(idx[$0])" }, &w) { i, sel, w in
                        if let o = snapshot.order(at: idx[i]) { rw.writeOrder(sel, o, &w) } else { w.null() }
                    }
                }
            }
        }
    }

    private mutating func writeRecordConnection(
        _ f: CField, indices: [Int], kind: ResourceKind, snapshot: ShopSnapshot, _ w: inout JSONWriter, path: [String]
    ) {
        if f.arg("first") == nil && f.arg("last") == nil {
            w.null()
            error("you must provide one of first or last", f, path: path, code: "BAD_REQUEST")
            return
        }
        let rw = RecordWriter(snapshot: snapshot, bulk: false, connectionWriter: nestedConnectionWriter(snapshot))
        let prefix = kind == .customer ? "c" : "o"
        Self.writeConnection(f, count: indices.count, cursor: { Self.cursor("\(prefix):\(indices[$0])") }, &w) { i, sel, w in
            if kind == .customer, let c = snapshot.customer(at: indices[i]) {
                rw.writeCustomer(sel, c, &w)
            } else if kind == .order, let o = snapshot.order(at: indices[i]) {
                rw.writeOrder(sel, o, &w)
            } else {
                w.null()
            }
        }
    }

    static func cursor(_ raw: String) -> String { Data(raw.utf8).base64EncodedString() }

    /// Writes a connection over `count` ordered items with `first/last/after/before` paging.
    static func writeConnection(
        _ f: CField, count: Int, cursor: (Int) -> String, _ w: inout JSONWriter, byType: ((Int) -> String)? = nil,
        node: (Int, [CField], inout JSONWriter) -> Void
    ) {
        var lo = 0, hi = count
        if let after = f.arg("after")?.string {
            if let i = (0..<count).first(where: { cursor($0) == after }) { lo = i + 1 }
        }
        if let before = f.arg("before")?.string {
            if let i = (0..<count).first(where: { cursor($0) == before }) { hi = i }
        }
        hi = max(lo, hi)
        var start = lo, end = hi
        if let first = f.arg("first")?.int { end = min(hi, lo + max(first, 0)) }
        if let last = f.arg("last")?.int { start = max(start, end - max(last, 0)) }
        let range = start..<end
        w.beginObject()
        for g in f.children {
            w.key(g.key)
            switch g.name {
            case "__typename": w.string("\(f.def.type)Connection")
            case "edges":
                w.beginArray()
                for i in range {
                    w.beginObject()
                    for e in g.children {
                        w.key(e.key)
                        switch e.name {
                        case "__typename": w.string("\(f.def.type)Edge")
                        case "cursor": w.string(cursor(i))
                        case "node": node(i, byType.map { e.selection(for: $0(i)) } ?? e.children, &w)
                        default: w.unmodelled(e)
                        }
                    }
                    w.endObject()
                }
                w.endArray()
            case "nodes":
                w.beginArray()
                for i in range { node(i, byType.map { g.selection(for: $0(i)) } ?? g.children, &w) }
                w.endArray()
            case "pageInfo":
                w.beginObject()
                for p in g.children {
                    w.key(p.key)
                    switch p.name {
                    case "__typename": w.string("PageInfo")
                    case "hasNextPage": w.bool(end < hi)
                    case "hasPreviousPage": w.bool(start > lo)
                    case "startCursor": w.string(range.isEmpty ? nil : cursor(range.lowerBound))
                    case "endCursor": w.string(range.isEmpty ? nil : cursor(range.upperBound - 1))
                    default: w.unmodelled(p)
                    }
                }
                w.endObject()
            default: w.unmodelled(g)
            }
        }
        w.endObject()
    }

    private mutating func writeBulkOperations(_ f: CField, _ w: inout JSONWriter, now: Double) {
        let search = SearchQuery.parse(f.arg("query")?.string)
        let sortKey = f.arg("sortKey")?.string ?? "CREATED_AT"
        let reverse = f.arg("reverse")?.bool ?? false
        var views: [(BulkOpView, Double)] = state.locked {
            state.operations.filter { $0.app == app.name }.map { (state.view($0, now: now), $0.completedAt ?? 0) }
        }
        views = views.filter { v, _ in
            search.matches(
                date: { $0 == "created_at" ? Int64(v.createdAt) : nil },
                text: { field in
                    switch field {
                    case "status": return v.status
                    case "operation_type", "type": return "QUERY"
                    default: return nil
                    }
                },
                id: Int64(v.number))
        }
        // Newest first by default (reverse: oldest first).
        views.sort { a, b in
            let ka = sortKey == "COMPLETED_AT" ? a.1 : Double(a.0.number)
            let kb = sortKey == "COMPLETED_AT" ? b.1 : Double(b.0.number)
            return reverse ? ka < kb : ka > kb
        }
        let list = views.map(\.0)
        Self.writeConnection(f, count: list.count, cursor: { Self.cursor("bo:\(list[$0].number)") }, &w) { i, sel, w in
            writeBulkOp(sel, list[i], &w)
        }
    }

    func writeBulkOp(_ fields: [CField], _ v: BulkOpView, _ w: inout JSONWriter) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("BulkOperation")
            case "id": w.string(v.gid)
            case "status": w.string(v.status)
            case "errorCode": w.string(v.errorCode)
            case "createdAt": w.string(ISOTime.format(Int64(v.createdAt)))
            case "completedAt": w.string(v.completedAt.map { ISOTime.format(Int64($0)) })
            case "objectCount": w.string(String(v.objectCount))
            case "rootObjectCount": w.string(String(v.rootObjectCount))
            case "fileSize": w.string(v.fileSize.map(String.init))
            case "url": w.string(v.url)
            case "partialDataUrl": w.string(v.partialDataUrl)
            case "query": w.string(v.query)
            case "type": w.string("QUERY")
            default: w.unmodelled(f)
            }
        }
        w.endObject()
    }

    // MARK: Mutation root

    private mutating func mutationField(_ f: CField, _ w: inout JSONWriter) {
        switch f.name {
        case "__typename": w.string("Mutation")
        case "bulkOperationRunQuery":
            let result = simulator.submit(
                app: app, version: version, query: f.arg("query")?.string ?? "",
                groupObjects: f.arg("groupObjects")?.bool)
            w.beginObject()
            for g in f.children {
                w.key(g.key)
                switch g.name {
                case "__typename": w.string("BulkOperationRunQueryPayload")
                case "bulkOperation": if let v = result.operation { writeBulkOp(g.children, v, &w) } else { w.null() }
                case "userErrors": writeUserErrors(g.children, result.userErrors, typename: "BulkOperationUserError", &w)
                default: w.unmodelled(g)
                }
            }
            w.endObject()
        case "bulkOperationCancel":
            let result = simulator.cancel(app: app, gid: f.arg("id")?.string ?? "")
            w.beginObject()
            for g in f.children {
                w.key(g.key)
                switch g.name {
                case "__typename": w.string("BulkOperationCancelPayload")
                case "bulkOperation": if let v = result.operation { writeBulkOp(g.children, v, &w) } else { w.null() }
                case "userErrors":
                    writeUserErrors(
                        g.children, result.userErrors.map { UserErrorValue(field: $0.field, message: $0.message, code: nil) },
                        typename: "UserError", &w)
                default: w.unmodelled(g)
                }
            }
            w.endObject()
        default: w.unmodelled(f)
        }
    }

    private func writeUserErrors(_ fields: [CField], _ errors: [UserErrorValue], typename: String, _ w: inout JSONWriter) {
        w.beginArray()
        for e in errors {
            w.beginObject()
            for f in fields {
                w.key(f.key)
                switch f.name {
                case "__typename": w.string(typename)
                case "field":
                    if let fl = e.field { w.beginArray(); for x in fl { w.string(x) }; w.endArray() } else { w.null() }
                case "message": w.string(e.message)
                case "code": w.string(e.code)
                default: w.unmodelled(f)
                }
            }
            w.endObject()
        }
        w.endArray()
    }
}

struct UserErrorValue: Sendable {
    var field: [String]?
    var message: String
    var code: String?
}

struct SubmitResult: Sendable {
    var operation: BulkOpView?
    var userErrors: [UserErrorValue]
}
