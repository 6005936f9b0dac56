import Foundation

/// The shop as it is at one moment: the generated base plus the small override maps that
/// touches, additions and deletions produce. A value (copy-on-write), so a bulk operation works
/// on the snapshot taken when it started, and tests read the expected data from it.
public struct ShopSnapshot: Sendable {
    struct Touch: Sendable { var updatedAt: Int64; var count: Int }

    let generator: ShopGenerator
    var addedCustomers: [Int64] = []  // createdAt of customers added after start; index = base + position
    var addedOrders: [Int64] = []
    var customerTouches: [Int: Touch] = [:]
    var orderTouches: [Int: Touch] = [:]
    var deletedCustomers: Set<Int> = []
    var deletedOrders: Set<Int> = []

    init(seed: UInt64, customers: Int, orders: Int, historyYears: Double? = nil) {
        var generator = ShopGenerator(seed: seed, baseCustomers: customers, baseOrders: orders)
        if let historyYears, historyYears > 0 {
            generator.historyStart = ShopGenerator.baseEnd - Int64(historyYears * 365.25 * 86_400)
        }
        self.generator = generator
    }

    /// Number of customer indices ever used (live and deleted).
    public var customerSlots: Int { generator.baseCustomers + addedCustomers.count }
    /// Number of order indices ever used (live and deleted).
    public var orderSlots: Int { generator.baseOrders + addedOrders.count }

    // MARK: cheap per-index facts (no record generation)

    func customerTimes(_ i: Int) -> (created: Int64, updated: Int64)? {
        guard i >= 0, i < customerSlots, !deletedCustomers.contains(i) else { return nil }
        let created: Int64, updated: Int64
        if i < generator.baseCustomers {
            created = generator.baseCreated(count: generator.baseCustomers, index: i, kind: ShopGenerator.kCustomer)
            updated = generator.baseUpdated(created: created, index: i, kind: ShopGenerator.kCustomer)
        } else {
            created = addedCustomers[i - generator.baseCustomers]; updated = created
        }
        if let t = customerTouches[i] { return (created, max(t.updatedAt, created)) }
        return (created, updated)
    }

    func orderTimes(_ i: Int) -> (created: Int64, updated: Int64)? {
        guard i >= 0, i < orderSlots, !deletedOrders.contains(i) else { return nil }
        let created: Int64, updated: Int64
        if i < generator.baseOrders {
            created = generator.baseCreated(count: generator.baseOrders, index: i, kind: ShopGenerator.kOrder)
            updated = generator.baseUpdated(created: created, index: i, kind: ShopGenerator.kOrder)
        } else {
            created = addedOrders[i - generator.baseOrders]; updated = created
        }
        if let t = orderTouches[i] { return (created, max(t.updatedAt, created)) }
        return (created, updated)
    }

    /// The live customer index of an order, if any (guest checkouts and deleted customers give nil).
    func orderCustomerIndex(_ i: Int) -> Int? {
        guard let c = generator.customerIndex(order: i), !deletedCustomers.contains(c) else { return nil }
        return c
    }

    // MARK: records

    /// The customer at a generator index, or nil if it was deleted or never existed.
    public func customer(at i: Int) -> SimCustomer? {
        guard let t = customerTimes(i) else { return nil }
        return generator.customer(index: i, created: t.created, updated: t.updated, touched: customerTouches[i]?.count ?? 0)
    }

    /// The order (with its line items) at a generator index, or nil if deleted or never existed.
    public func order(at i: Int) -> SimOrder? {
        guard let t = orderTimes(i) else { return nil }
        let contact = orderCustomerIndex(i).map { generator.contact(customer: $0) }
        return generator.order(index: i, created: t.created, updated: t.updated, touched: orderTouches[i]?.count ?? 0, customer: contact)
    }

    public func customer(id: Int64) -> SimCustomer? { customer(at: Int(id - ShopGenerator.customerIdBase - 1)) }
    public func order(id: Int64) -> SimOrder? { order(at: Int(id - ShopGenerator.orderIdBase - 1)) }

    /// Every live customer, in index (= id = createdAt) order. Lazy: nothing is held in memory.
    public var customers: LazyMapSequence<LazyFilterSequence<LazyMapSequence<Range<Int>, SimCustomer?>>, SimCustomer> {
        (0..<customerSlots).lazy.map { customer(at: $0) }.filter { $0 != nil }.map { $0! }
    }

    /// Every live order with its line items, in index order. Lazy.
    public var orders: LazyMapSequence<LazyFilterSequence<LazyMapSequence<Range<Int>, SimOrder?>>, SimOrder> {
        (0..<orderSlots).lazy.map { order(at: $0) }.filter { $0 != nil }.map { $0! }
    }

    public var liveCustomerCount: Int { customerSlots - deletedCustomers.count }
    public var liveOrderCount: Int { orderSlots - deletedOrders.count }
    /// Number of line items over all live orders (computed without generating orders).
    public var liveLineItemCount: Int {
        var n = 0
        for i in 0..<orderSlots where !deletedOrders.contains(i) { n += generator.lineItemCount(order: i) }
        return n
    }

    /// Indices of the live orders of a customer, in index order.
    func orderIndices(ofCustomer c: Int) -> [Int] {
        guard generator.baseCustomers > 0, c < generator.baseCustomers else { return [] }
        var out: [Int] = []
        var i = c
        while i < orderSlots {
            if !deletedOrders.contains(i), generator.customerIndex(order: i) == c { out.append(i) }
            i += generator.baseCustomers
        }
        return out
    }

    /// Live orders of a customer (what `Customer.orders` returns).
    public func orders(ofCustomer index: Int) -> [SimOrder] {
        deletedCustomers.contains(index) ? [] : orderIndices(ofCustomer: index).compactMap { order(at: $0) }
    }

    /// Whether the customer index is live.
    func customerIsLive(_ i: Int) -> Bool { i >= 0 && i < customerSlots && !deletedCustomers.contains(i) }
    func orderIsLive(_ i: Int) -> Bool { i >= 0 && i < orderSlots && !deletedOrders.contains(i) }
}

/// What a change to the shop did, with the ids it touched.
public struct ShopChange: Sendable, Hashable {
    public var customerIds: [Int64] = []
    public var orderIds: [Int64] = []
    public var customerGids: [String] { customerIds.map { "gid://shopify/Customer/\($0)" } }
    public var orderGids: [String] { orderIds.map { "gid://shopify/Order/\($0)" } }
}

extension ShopSnapshot {
    /// Picks `count` distinct live indices pseudo-randomly from `slots` (deterministic per `salt`).
    func pickLive(count: Int, slots: Int, salt: UInt64, isLive: (Int) -> Bool) -> [Int] {
        guard slots > 0, count > 0 else { return [] }
        var chosen: [Int] = []
        var seen = Set<Int>()
        var attempt: UInt64 = 0
        while chosen.count < count, attempt < UInt64(count) * 20 + 100 {
            let i = Int(Mix.splitmix(generator.seed ^ salt &* 7919 ^ attempt) % UInt64(slots))
            attempt += 1
            if isLive(i), seen.insert(i).inserted { chosen.append(i) }
        }
        if chosen.count < count {  // dense fallback
            for i in 0..<slots where chosen.count < count && isLive(i) && seen.insert(i).inserted { chosen.append(i) }
        }
        return chosen.sorted()
    }

    mutating func touch(customers: [Int], orders: [Int], at now: Int64) -> ShopChange {
        var change = ShopChange()
        for i in customers where customerIsLive(i) {
            customerTouches[i] = Touch(updatedAt: now, count: (customerTouches[i]?.count ?? 0) + 1)
            change.customerIds.append(ShopGenerator.customerId(i))
        }
        for i in orders where orderIsLive(i) {
            orderTouches[i] = Touch(updatedAt: now, count: (orderTouches[i]?.count ?? 0) + 1)
            change.orderIds.append(ShopGenerator.orderId(i))
        }
        return change
    }

    mutating func add(customers: Int, orders: Int, at now: Int64) -> ShopChange {
        var change = ShopChange()
        for _ in 0..<max(customers, 0) {
            change.customerIds.append(ShopGenerator.customerId(customerSlots))
            addedCustomers.append(now)
        }
        for _ in 0..<max(orders, 0) {
            change.orderIds.append(ShopGenerator.orderId(orderSlots))
            addedOrders.append(now)
        }
        return change
    }

    mutating func delete(customers: [Int], orders: [Int]) -> ShopChange {
        var change = ShopChange()
        for i in customers where customerIsLive(i) {
            deletedCustomers.insert(i); change.customerIds.append(ShopGenerator.customerId(i))
        }
        for i in orders where orderIsLive(i) {
            deletedOrders.insert(i); change.orderIds.append(ShopGenerator.orderId(i))
        }
        return change
    }
}
