/// Filtering and ordering of the shop's customers and orders, as the `customers`/`orders`
/// connections do it. Index order is id order and `createdAt` order; `UPDATED_AT` sorts a compact
/// array of 8-byte keys (8 MB per million matches), never the records.
enum ResourceKind: Sendable { case customer, order }

struct ShopQuery {
    let snapshot: ShopSnapshot
    let kind: ResourceKind
    let search: SearchQuery
    let sortKey: String?
    let reverse: Bool

    static let customerSortKeys: Set<String> = ["CREATED_AT", "ID", "LOCATION", "NAME", "RELEVANCE", "UPDATED_AT"]
    static let orderSortKeys: Set<String> = [
        "CREATED_AT", "CUSTOMER_NAME", "DESTINATION", "FINANCIAL_STATUS", "FULFILLMENT_STATUS", "ID", "ORDER_NUMBER",
        "PO_NUMBER", "PROCESSED_AT", "RELEVANCE", "TOTAL_ITEMS_QUANTITY", "TOTAL_PRICE", "UPDATED_AT",
    ]

    static func sortKeyEnumName(_ kind: ResourceKind) -> String { kind == .customer ? "CustomerSortKeys" : "OrderSortKeys" }
    static func validSortKeys(_ kind: ResourceKind) -> Set<String> { kind == .customer ? customerSortKeys : orderSortKeys }

    private func times(_ i: Int) -> (created: Int64, updated: Int64)? {
        kind == .customer ? snapshot.customerTimes(i) : snapshot.orderTimes(i)
    }

    private var slots: Int { kind == .customer ? snapshot.customerSlots : snapshot.orderSlots }

    /// Whether index `i` is live and matches the search.
    func matches(_ i: Int) -> Bool {
        guard let t = times(i) else { return false }
        if search.isEmpty { return true }
        let id = kind == .customer ? ShopGenerator.customerId(i) : ShopGenerator.orderId(i)
        return search.matches(
            date: { field in
                switch field {
                case "updated_at": return t.updated
                case "created_at", "customer_date", "processed_at": return t.created
                default: return nil
                }
            },
            text: { field in
                switch (kind, field) {
                case (.customer, "email"): return snapshot.customer(at: i)?.email ?? ""
                case (.order, "email"): return snapshot.order(at: i)?.email ?? ""
                case (.order, "name"): return "#\(1001 + i)"
                case (.order, "customer_id"): return snapshot.orderCustomerIndex(i).map { String(ShopGenerator.customerId($0)) } ?? ""
                default: return nil
                }
            },
            id: id)
    }

    /// Calls `body` with each matching index in the requested order until it returns false.
    func forEach(_ body: (Int) throws -> Bool) rethrows {
        let n = slots
        if sortKey == "UPDATED_AT" {
            var keys: [UInt64] = []
            for i in 0..<n where matches(i) {
                let u = UInt64(max(times(i)!.updated - ShopGenerator.baseStart + (1 << 31), 0))
                keys.append(u << 32 | UInt64(i))
            }
            keys.sort()
            if reverse {
                for k in keys.reversed() { if try !body(Int(k & 0xFFFF_FFFF)) { return } }
            } else {
                for k in keys { if try !body(Int(k & 0xFFFF_FFFF)) { return } }
            }
            return
        }
        if reverse {
            for i in stride(from: n - 1, through: 0, by: -1) where matches(i) { if try !body(i) { return } }
        } else {
            for i in 0..<n where matches(i) { if try !body(i) { return } }
        }
    }

    /// The ordered matching indices as an array (normal queries that page).
    func all() -> [Int] {
        var out: [Int] = []
        forEach {
            out.append($0); return true
        }
        return out
    }
}
