import Foundation

/// The simulator without HTTP: authentication, bulk operation lifecycle and shop control.
/// `ShopifySimulator` puts HTTP listeners in front of it.
final class ShopifySimulatorCore: @unchecked Sendable {
    let state: SimulatorState

    init(config: SimulatorConfig) throws {
        state = try SimulatorState(config: config)
    }

    // MARK: auth

    enum AuthFailure: Error { case missing, unknown, expired }

    func authenticate(token: String?) -> Result<SimulatedApp, AuthFailure> {
        guard let token, !token.isEmpty else { return .failure(.missing) }
        let now = state.clock.now()
        return state.locked {
            guard let t = state.tokens[token], let app = state.apps[t.app] else { return .failure(.unknown) }
            if let exp = t.expiresAt, now >= exp { return .failure(.expired) }
            return .success(app)
        }
    }

    struct OAuthError: Error { var status: Int; var error: String; var description: String }
    struct IssuedTokenResponse { var token: String; var scope: String; var expiresIn: Int }

    func clientCredentialsGrant(grantType: String?, clientId: String?, clientSecret: String?) -> Result<IssuedTokenResponse, OAuthError> {
        guard grantType == "client_credentials" else {
            return .failure(
                OAuthError(
                    status: 400, error: "unsupported_grant_type",
                    description: "The authorization grant type is not supported by the authorization server."))
        }
        guard let clientId, !clientId.isEmpty else {
            return .failure(OAuthError(status: 400, error: "invalid_request", description: "Missing required parameter: client_id."))
        }
        let now = state.clock.now()
        return state.locked {
            guard let app = state.apps.values.first(where: { $0.clientId == clientId }) else {
                return .failure(
                    OAuthError(
                        status: 400, error: "application_cannot_be_found",
                        description: "The application with the given client_id could not be found."))
            }
            guard let secret = clientSecret, secret == app.clientSecret else {
                return .failure(
                    OAuthError(
                        status: 401, error: "invalid_client",
                        description: "Client authentication failed: the client secret is invalid."))
            }
            if app.crossOrganization {
                return .failure(
                    OAuthError(
                        status: 400, error: "shop_not_permitted",
                        description:
                            "Client credentials cannot be performed on this shop: the app and the shop belong to different organizations."))
            }
            let token = "shpat_" + Self.randomHex(32)
            let lifetime = state.config.tokenLifetime
            state.tokens[token] = IssuedToken(app: app.name, expiresAt: now + lifetime)
            return .success(IssuedTokenResponse(token: token, scope: app.scopes.joined(separator: ","), expiresIn: Int(lifetime)))
        }
    }

    static func randomHex(_ n: Int) -> String {
        var g = SystemRandomNumberGenerator()
        var s = ""
        while s.count < n { s += String(g.next() as UInt64, radix: 16) }
        return String(s.prefix(n))
    }

    // MARK: bulk operations

    func submit(app: SimulatedApp, version: APIVersion, query: String, groupObjects: Bool?) -> SubmitResult {
        let v = version.value
        let group: Bool = v < 202507 ? true : (groupObjects ?? (v < 202601))
        func invalid(_ messages: [String]) -> SubmitResult {
            SubmitResult(operation: nil, userErrors: messages.map { UserErrorValue(field: ["query"], message: $0, code: "INVALID") })
        }
        let parsed: ParsedOperation
        switch DocumentParser.parse(query, variables: [:], operationName: nil) {
        case .failure(let e): return invalid(["Invalid bulk query: \(e.message)"])
        case .success(let p): parsed = p
        }
        if parsed.isMutation {
            return invalid(["Invalid bulk query: bulkOperationRunQuery accepts queries only; use bulkOperationRunMutation for mutations."])
        }
        if let sdl = state.sdl, let errors = sdl.validate(query), !errors.isEmpty {
            return invalid(errors.map { "Invalid bulk query: \($0.message)" })
        }
        var compiler = SelectionCompiler(version: v, sdl: state.sdl)
        let fields = compiler.compile(parsed.selections, on: "QueryRoot", path: [parsed.pathRoot])
        if !compiler.errors.isEmpty { return invalid(compiler.errors.map { "Invalid bulk query: \($0.message)" }) }
        for f in fields where f.def.kind == .connection {
            if let sk = f.arg("sortKey")?.string, f.name == "customers" || f.name == "orders" {
                let kind: ResourceKind = f.name == "customers" ? .customer : .order
                if !ShopQuery.validSortKeys(kind).contains(sk) {
                    return invalid([
                        "Invalid bulk query: Argument 'sortKey' on Field '\(f.name)' has an invalid value (\(sk)). Expected type '\(ShopQuery.sortKeyEnumName(kind))'."
                    ])
                }
            }
        }
        let plan: BulkPlan
        switch BulkRules.plan(fields) {
        case .failure(let violation): return invalid(violation.messages)
        case .success(let p): plan = p
        }
        let accessDenied = !plan.requiredScopes.allSatisfy { s in app.scopes.contains(s) || app.scopes.contains("write_" + s.dropFirst(5)) }
        let now = state.clock.now()
        let started: (BulkOperationRecord, BulkRunner)? = nil
        var result: SubmitResult = SubmitResult(operation: nil, userErrors: [])
        var runner: BulkRunner? = started?.1
        state.locked {
            let active = state.operations.filter { $0.app == app.name && $0.isActive }
            if v < 202601, let a = active.first {
                result.userErrors = [
                    UserErrorValue(
                        field: nil, message: "A bulk query operation for this app and shop is already in progress: \(a.gid).",
                        code: "OPERATION_IN_PROGRESS")
                ]
                return
            }
            if v >= 202601, active.count >= state.config.concurrentOperationLimit {
                result.userErrors = [
                    UserErrorValue(
                        field: nil,
                        message:
                            "Bulk operations limit reached, try later: \(state.config.concurrentOperationLimit) bulk query operations are already running for this app and shop.",
                        code: "LIMIT_REACHED")
                ]
                return
            }
            state.queryOrdinal += 1
            let op = BulkOperationRecord(
                number: state.nextOperationNumber, app: app.name, query: query, createdAt: now,
                groupObjects: group, foreign: false, ordinal: state.queryOrdinal)
            state.nextOperationNumber += 1
            state.operations.append(op)
            runner = BulkRunner(
                state: state, op: op, plan: plan, snapshot: state.shop, faults: state.operationFaults(ordinal: op.ordinal),
                accessDenied: accessDenied, speed: state.config.speed, startDelay: state.config.startDelay,
                cancelDelay: state.config.cancelDelay)
            result.operation = state.view(op, now: now)
        }
        runner?.start()
        return result
    }

    func cancel(app: SimulatedApp, gid: String) -> SubmitResult {
        let now = state.clock.now()
        return state.locked {
            guard let n = AdminExecutor.number(of: gid, type: "BulkOperation"), let op = state.operation(number: n), op.app == app.name
            else {
                return SubmitResult(
                    operation: nil, userErrors: [UserErrorValue(field: ["id"], message: "Bulk operation does not exist", code: nil)])
            }
            state.expireIfNeeded(op, now: now)
            guard op.isActive else {
                return SubmitResult(
                    operation: state.view(op, now: now),
                    userErrors: [
                        UserErrorValue(
                            field: nil, message: "A bulk operation cannot be canceled when it is \(op.status.lowercased())", code: nil)
                    ])
            }
            op.cancelRequested = true
            op.status = "CANCELING"
            return SubmitResult(operation: state.view(op, now: now), userErrors: [])
        }
    }

    /// Starts operations "from another process of the same app" that hold slots for a while.
    func startForeign(_ f: ForeignOperation) {
        let now = state.clock.now()
        var ops: [BulkOperationRecord] = []
        state.locked {
            let names = f.app.map { [$0] } ?? state.apps.keys.sorted()
            for name in names {
                for _ in 0..<max(f.slots, 1) {
                    let op = BulkOperationRecord(
                        number: state.nextOperationNumber, app: name,
                        query: "{ orders { edges { node { id } } } }", createdAt: now, groupObjects: false, foreign: true, ordinal: 0)
                    op.status = "RUNNING"
                    state.nextOperationNumber += 1
                    state.operations.append(op)
                    ops.append(op)
                }
            }
        }
        let seconds = f.seconds, cancelDelay = state.config.cancelDelay
        let st = self.state
        for op in ops {
            let t = Thread {
                var left = seconds
                while left > 0 {
                    Thread.sleep(forTimeInterval: min(left, 0.02))
                    left -= 0.02
                    if st.locked({ op.cancelRequested }) {
                        Thread.sleep(forTimeInterval: cancelDelay)
                        st.locked {
                            op.status = "CANCELED"; op.endedAt = st.clock.now()
                        }
                        return
                    }
                }
                st.locked {
                    let now = st.clock.now()
                    op.status = "COMPLETED"; op.completedAt = now; op.endedAt = now; op.resultIsComplete = true
                }
            }
            t.start()
        }
    }

    func addFaults(_ f: SimulatorFaults) {
        state.locked {
            state.faults.operations += f.operations
            state.faults.http += f.http
            state.faults.downloadDrops += f.downloadDrops
        }
        for fo in f.foreignOperations { startForeign(fo) }
    }

    func setFaults(_ f: SimulatorFaults) {
        state.locked { state.faults = SimulatorFaults() }
        addFaults(f)
    }

    // MARK: shop control

    func touch(orders: Int, customers: Int) -> ShopChange {
        let now = state.clock.nowSeconds()
        return state.locked {
            state.changeSalt += 1
            let s = state.shop
            let o = s.pickLive(count: orders, slots: s.orderSlots, salt: state.changeSalt * 2, isLive: s.orderIsLive)
            let c = s.pickLive(count: customers, slots: s.customerSlots, salt: state.changeSalt * 2 + 1, isLive: s.customerIsLive)
            return state.shop.touch(customers: c, orders: o, at: now)
        }
    }

    func touch(orderIds: [Int64], customerIds: [Int64]) -> ShopChange {
        let now = state.clock.nowSeconds()
        return state.locked {
            state.shop.touch(
                customers: customerIds.map { Int($0 - ShopGenerator.customerIdBase - 1) },
                orders: orderIds.map { Int($0 - ShopGenerator.orderIdBase - 1) }, at: now)
        }
    }

    func add(orders: Int, customers: Int) -> ShopChange {
        let now = state.clock.nowSeconds()
        return state.locked { state.shop.add(customers: customers, orders: orders, at: now) }
    }

    func delete(orders: Int, customers: Int) -> ShopChange {
        state.locked {
            state.changeSalt += 1
            let s = state.shop
            let o = s.pickLive(count: orders, slots: s.orderSlots, salt: state.changeSalt * 2, isLive: s.orderIsLive)
            let c = s.pickLive(count: customers, slots: s.customerSlots, salt: state.changeSalt * 2 + 1, isLive: s.customerIsLive)
            return state.shop.delete(customers: c, orders: o)
        }
    }

    func delete(orderIds: [Int64], customerIds: [Int64]) -> ShopChange {
        state.locked {
            state.shop.delete(
                customers: customerIds.map { Int($0 - ShopGenerator.customerIdBase - 1) },
                orders: orderIds.map { Int($0 - ShopGenerator.orderIdBase - 1) })
        }
    }
}
