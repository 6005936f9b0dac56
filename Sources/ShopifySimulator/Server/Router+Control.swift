import FlyingFox
import Foundation

/// `/_sim/…`: control endpoints for tests, the demo and people poking at the simulator.
extension Router {
    func control(_ req: HTTPRequest) async throws -> HTTPResponse {
        let body = try await req.bodyData
        let input = JSONValue.parse(body)
        func ids(_ key: String) -> [Int64] {
            (input?[key]?.array ?? []).compactMap { v in
                if let i = v.int { return Int64(i) }
                if let s = v.string { return Int64(s.split(separator: "/").last ?? "") }
                return nil
            }
        }
        func change(_ c: ShopChange) -> HTTPResponse {
            var w = JSONWriter()
            w.beginObject()
            w.key("customers"); w.beginArray(); for g in c.customerGids { w.string(g) }; w.endArray()
            w.key("orders"); w.beginArray(); for g in c.orderGids { w.string(g) }; w.endArray()
            w.endObject()
            return json(200, w.bytes)
        }
        switch (req.method, req.path) {
        case (.POST, "/_sim/touch"):
            let byId = ids("orderIds") + ids("customerIds")
            if !byId.isEmpty { return change(core.touch(orderIds: ids("orderIds"), customerIds: ids("customerIds"))) }
            return change(core.touch(orders: input?["orders"]?.int ?? 0, customers: input?["customers"]?.int ?? 0))
        case (.POST, "/_sim/add"):
            return change(core.add(orders: input?["orders"]?.int ?? 0, customers: input?["customers"]?.int ?? 0))
        case (.POST, "/_sim/delete"):
            let byId = ids("orderIds") + ids("customerIds")
            if !byId.isEmpty { return change(core.delete(orderIds: ids("orderIds"), customerIds: ids("customerIds"))) }
            return change(core.delete(orders: input?["orders"]?.int ?? 0, customers: input?["customers"]?.int ?? 0))
        case (.POST, "/_sim/faults"), (.PUT, "/_sim/faults"):
            do {
                let faults = try JSONDecoder().decode(SimulatorFaults.self, from: body.isEmpty ? Data("{}".utf8) : body)
                if req.method == .PUT || req.query.contains(where: { $0.name == "replace" }) {
                    core.setFaults(faults)
                } else {
                    core.addFaults(faults)
                }
            } catch {
                return json(400, "{\"error\":\(String(decoding: JSONWriter.escaped("invalid faults: \(error)"), as: UTF8.self))}")
            }
            return json(200, try JSONEncoder().encode(state.locked { state.faults }).map { $0 })
        case (.DELETE, "/_sim/faults"):
            core.setFaults(SimulatorFaults())
            return json(200, "{}")
        case (.GET, "/_sim/faults"):
            return json(200, try JSONEncoder().encode(state.locked { state.faults }).map { $0 })
        case (.GET, "/_sim/requests"):
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            return json(200, try enc.encode(state.locked { state.requests }).map { $0 })
        case (.DELETE, "/_sim/requests"):
            state.locked { state.requests.removeAll() }
            return json(200, "{}")
        case (.POST, "/_sim/clock"):
            core.state.clock.advance(by: input?["advance"]?.double ?? 0)
            return json(200, "{\"now\":\"\(ISOTime.format(core.state.clock.nowSeconds()))\"}")
        case (.GET, "/_sim/state"):
            return json(200, stateJSON())
        default:
            return json(404, #"{"errors":"Not Found"}"#)
        }
    }

    private func stateJSON() -> [UInt8] {
        let now = state.clock.now()
        let (shop, ops, apps, config) = state.locked {
            (state.shop, state.operations.map { state.publicView($0, now: now) }, state.config.apps, state.config)
        }
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("now", ISOTime.format(Int64(now)))
        w.field("baseURL", "http://127.0.0.1:\(state.apiPort)")
        w.field("filesBaseURL", state.filesBaseURL)
        w.key("shop"); w.beginObject()
        w.field("domain", "\(config.shopName).myshopify.com")
        w.field("seed", Int(truncatingIfNeeded: config.seed))
        w.field("customers", shop.liveCustomerCount)
        w.field("orders", shop.liveOrderCount)
        w.field("touchedCustomers", shop.customerTouches.count)
        w.field("touchedOrders", shop.orderTouches.count)
        w.field("addedCustomers", shop.addedCustomers.count)
        w.field("addedOrders", shop.addedOrders.count)
        w.field("deletedCustomers", shop.deletedCustomers.count)
        w.field("deletedOrders", shop.deletedOrders.count)
        w.endObject()
        w.key("apps"); w.beginArray()
        for a in apps {
            w.beginObject()
            w.field("name", a.name)
            w.field("auth", a.accessToken != nil ? "token" : "client-credentials")
            w.key("scopes"); w.beginArray(); for s in a.scopes { w.string(s) }; w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("operations"); w.beginArray()
        for o in ops {
            w.beginObject()
            w.field("id", o.gid); w.field("app", o.app); w.field("status", o.status); w.field("errorCode", o.errorCode)
            w.field("objectCount", o.objectCount); w.field("rootObjectCount", o.rootObjectCount); w.field("fileSize", o.fileSize)
            w.field("url", o.url); w.field("partialDataUrl", o.partialDataUrl); w.field("groupObjects", o.groupObjects)
            w.field("foreign", o.foreign)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}

extension SimulatorFaults {
    enum CodingKeys: String, CodingKey { case operations, foreignOperations, http, downloadDrops }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            operations: try c.decodeIfPresent([OperationFault].self, forKey: .operations) ?? [],
            foreignOperations: try c.decodeIfPresent([ForeignOperation].self, forKey: .foreignOperations) ?? [],
            http: try c.decodeIfPresent([HTTPFault].self, forKey: .http) ?? [],
            downloadDrops: try c.decodeIfPresent([DownloadDrop].self, forKey: .downloadDrops) ?? [])
    }
}

extension ForeignOperation {
    enum CodingKeys: String, CodingKey { case app, seconds, slots }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            app: try c.decodeIfPresent(String.self, forKey: .app), seconds: try c.decode(Double.self, forKey: .seconds),
            slots: try c.decodeIfPresent(Int.self, forKey: .slots) ?? 1)
    }
}

extension DownloadDrop {
    enum CodingKeys: String, CodingKey { case afterBytes, count }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(afterBytes: try c.decode(Int.self, forKey: .afterBytes), count: try c.decodeIfPresent(Int.self, forKey: .count) ?? 1)
    }
}
