import Foundation

/// Deterministic value source: every field of every record is a pure function of
/// (seed, record kind, index, salt), so a million orders need no memory.
struct Mix {
    let seed: UInt64

    @inline(__always)
    static func splitmix(_ x0: UInt64) -> UInt64 {
        var z = x0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    func h(_ kind: UInt64, _ index: Int, _ salt: UInt64) -> UInt64 {
        Mix.splitmix(seed ^ Mix.splitmix(kind &* 0x1000_0000_01B3 ^ UInt64(bitPattern: Int64(index)) &* 31 ^ salt &* 0x51_7CC1_B727_220A))
    }

    @inline(__always)
    func pick<T>(_ items: [T], _ kind: UInt64, _ index: Int, _ salt: UInt64) -> T {
        items[Int(h(kind, index, salt) % UInt64(items.count))]
    }

    /// A value in `0..<n`.
    @inline(__always)
    func below(_ n: Int, _ kind: UInt64, _ index: Int, _ salt: UInt64) -> Int { Int(h(kind, index, salt) % UInt64(n)) }

    /// True with probability `percent`/100.
    @inline(__always)
    func chance(_ percent: Int, _ kind: UInt64, _ index: Int, _ salt: UInt64) -> Bool { below(100, kind, index, salt) < percent }
}

/// Value pools: non-ASCII names, quotes, backslashes, control characters, U+2028.
enum Pools {
    static let firstNames = [
        "Zoë", "Łukasz", "José", "Anaïs", "Søren", "Björn", "François", "Chloé", "Ólafur", "Željko", "太郎", "花子",
        "Алексей", "Mary", "John", "Ann", "Liam", "Olivia", "Noah", "Emma", "D'Arcy", "Renée", "Zoe", "Mohammed",
    ]
    static let lastNames = [
        "山田", "Müller", "O'Brien", "Kowalski", "García", "Nguyễn", "Øster", "van der Berg", "Núñez", "Иванов",
        "Smith", "Johnson", "Dupont", "Rossi", "Schmidt", "Brown", "Wiśniewska", "Ødegård", "鈴木", "Lefèvre",
    ]
    static let notes: [String?] = [
        nil, nil, nil, nil,
        "Prefers \"express\" shipping",
        "Ships to C:\\Warehouse\\Dock 5",
        "Line one\nLine two\nLine three",
        "Col1\tCol2\tCol3",
        "Paragraph\u{2028}separated note",
        "🎁 gift wrap, please — thanks!",
        "Customer said: 'call before delivery'",
        "Carriage\r\nreturn note",
        "Backslash-quote \\\" mix",
        "",
    ]
    static let tags = ["vip", "wholesale", "newsletter", "returning", "b2b", "summer-sale", "Zoë's friends", "Ünïcödé", "needs \"review\""]
    static let currencies = ["EUR", "USD", "GBP", "JPY", "CHF", "PLN", "CAD"]
    static let locales = ["en", "de", "fr", "ja", "pl", "es", "nl"]
    static let states = ["ENABLED", "ENABLED", "ENABLED", "ENABLED", "ENABLED", "ENABLED", "ENABLED", "DISABLED", "DISABLED", "INVITED"]
    static let cities: [(String, String?, String?, String, String, String)] = [
        ("München", "Bavaria", "BY", "Germany", "DE", "80331"),
        ("Kraków", nil, nil, "Poland", "PL", "30-001"),
        ("東京", "Tokyo", "JP-13", "Japan", "JP", "100-0001"),
        ("São Paulo", "São Paulo", "SP", "Brazil", "BR", "01000-000"),
        ("New York", "New York", "NY", "United States", "US", "10001"),
        ("Zürich", "Zürich", "ZH", "Switzerland", "CH", "8001"),
        ("Reykjavík", nil, nil, "Iceland", "IS", "101"),
        ("London", "England", nil, "United Kingdom", "GB", "SW1A 1AA"),
    ]
    static let streets = ["Hauptstraße", "Rue de l'Église", "Main St", "ul. Floriańska", "銀座", "Bahnhofstrasse", "Baker \"B\" Street"]
    static let products = [
        "T-Shirt", "Kaffeebecher „Zoë“", "Tee \"Classic\"", "Mug 山田", "Poster 24\" × 36\"", "Hoodie", "Socks (3-pack)",
        "Backslash \\ Lamp", "Gift card", "Crème brûlée kit", "Notebook\tA5", "Łódź Bag",
    ]
    static let variants: [String?] = [nil, "S / Red", "M / Red", "L / Blue", "XL", "Default Title", "Ø 30 cm"]
    static let vendors: [String?] = [nil, "Acme", "Zoë's Workshop", "山田商店", "Nordic \"Goods\""]
    static let financial: [String?] = [
        "PAID", "PAID", "PAID", "PAID", "PAID", "PAID", "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "VOIDED", nil,
    ]
    /// Paid orders are mostly shipped (80 %); unpaid ones mostly wait.
    static let paidFulfillment =
        Array(repeating: "FULFILLED", count: 16) + ["PARTIALLY_FULFILLED", "IN_PROGRESS", "UNFULFILLED", "UNFULFILLED"]
    static let unpaidFulfillment = ["UNFULFILLED", "UNFULFILLED", "UNFULFILLED", "UNFULFILLED", "IN_PROGRESS", "FULFILLED"]
    static let cancelReasons = ["CUSTOMER", "FRAUD", "INVENTORY", "DECLINED", "OTHER"]
    static let taxRates = [0, 7, 19, 20, 8, 10]
    static let refundNotes: [String?] = [
        nil, nil, "Damaged in transit", "Wrong size — exchanged", "Customer returned \"unused\" item", "Late delivery\ngoodwill",
    ]
}

/// Carriers with their real tracking-number formats and tracking pages.
enum Carriers {
    struct Carrier: Sendable {
        var company: String
        /// The tracking number's pattern: `D` a digit, `A` an upper-case letter or digit, `L` a letter, other characters as is.
        var pattern: String
        /// The tracking page, `{}` standing for the number.
        var page: String?
        func url(_ number: String) -> String? { page?.replacingOccurrences(of: "{}", with: number) }
    }
    static let all: [Carrier] = [
        Carrier(company: "UPS", pattern: "1ZAAAAAA03DDDDDDDD", page: "https://www.ups.com/track?tracknum={}"),
        Carrier(company: "USPS", pattern: "9400DDDDDDDDDDDDDDDDDD", page: "https://tools.usps.com/go/TrackConfirmAction?tLabels={}"),
        Carrier(company: "FedEx", pattern: "DDDDDDDDDDDD", page: "https://www.fedex.com/fedextrack/?trknbr={}"),
        Carrier(
            company: "DHL Express", pattern: "DDDDDDDDDD", page: "https://www.dhl.com/en/express/tracking.html?AWB={}&brand=DHL"),
        Carrier(
            company: "Royal Mail", pattern: "LLDDDDDDDDDGB", page: "https://www.royalmail.com/track-your-item#/tracking-results/{}"),
        Carrier(
            company: "Canada Post", pattern: "DDDDDDDDDDDDDDDD",
            page: "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}"),
    ]
    /// A merchant's own courier: typed in by hand, no tracking page (rare).
    static let custom = Carrier(company: "Kurier „Schnell“ & Söhne <GmbH>", pattern: "KS-DDDDDD", page: nil)
    /// A hand-typed tracking link that is not a web address: a client must not turn it into a link.
    static let hostile = Carrier(company: "Courier\"><img src=x onerror=alert(1)>", pattern: "X-DDDD", page: "javascript:alert(1)")
}

/// Generates the base shop. Timestamps of base records lie in [`baseStart`, `baseEnd`), and
/// `createdAt` strictly increases with the index, so `sortKey: CREATED_AT` and `ID` share one order.
struct ShopGenerator: Sendable {
    let seed: UInt64
    let baseCustomers: Int
    let baseOrders: Int
    /// Where the base history starts (default 2022-01-01; `SimulatorConfig.historyYears` moves it).
    var historyStart: Int64 = ShopGenerator.baseStart
    static let baseStart = ISOTime.make(2022, 1, 1)
    static let baseEnd = ISOTime.make(2026, 6, 1)

    static let customerIdBase: Int64 = 7_000_000_000_000
    static let fulfillmentIdBase: Int64 = 6_000_000_000_000
    static let refundIdBase: Int64 = 9_000_000_000_000
    static let orderIdBase: Int64 = 5_000_000_000_000
    static let lineItemIdBase: Int64 = 13_000_000_000_000
    static let addressIdBase: Int64 = 8_000_000_000_000
    static let productIdBase: Int64 = 3_000_000_000_000
    static let variantIdBase: Int64 = 4_000_000_000_000

    var mix: Mix { Mix(seed: seed) }

    // kinds
    static let kCustomer: UInt64 = 1, kOrder: UInt64 = 2, kLine: UInt64 = 3, kAddress: UInt64 = 4, kShipment: UInt64 = 5
    static let kRefund: UInt64 = 6

    func baseCreated(count: Int, index: Int, kind: UInt64) -> Int64 {
        let span = ShopGenerator.baseEnd - historyStart
        let n = Int64(max(count, 1))
        let step = max(span / n, 1)
        let i = Int64(index)
        return historyStart + (i * span) / n + Int64(mix.h(kind, index, 99) % UInt64(step))
    }

    /// `updatedAt` of an untouched base record: some time after creation, before `baseEnd`.
    func baseUpdated(created: Int64, index: Int, kind: UInt64) -> Int64 {
        let r = mix.h(kind, index, 98)
        if r % 3 == 0 { return created + Int64(r % 600) }  // barely changed
        let limit = max(ShopGenerator.baseEnd - created, 1)
        return created + Int64((r >> 8) % UInt64(min(limit, 400 * 86400)))
    }

    static func customerId(_ index: Int) -> Int64 { customerIdBase + Int64(index) + 1 }
    static func orderId(_ index: Int) -> Int64 { orderIdBase + Int64(index) + 1 }
    static func lineItemId(order: Int, position: Int) -> Int64 { lineItemIdBase + Int64(order) * 4 + Int64(position) + 1 }

    /// Number of line items of an order: 1…4, average 2.5.
    func lineItemCount(order index: Int) -> Int { 1 + mix.below(4, ShopGenerator.kOrder, index, 7) }

    /// The customer of an order (its index), or nil for a guest checkout (~12 %).
    func customerIndex(order index: Int) -> Int? {
        guard baseCustomers > 0, !mix.chance(12, ShopGenerator.kOrder, index, 8) else { return nil }
        return index % baseCustomers
    }

    struct Contact { var index: Int; var id: Int64; var first: String?; var last: String?; var email: String?; var phone: String? }

    /// The parts of a customer that its orders copy (cheaper than the whole record).
    func contact(customer index: Int) -> Contact {
        let m = mix, k = ShopGenerator.kCustomer
        let first: String? = m.chance(3, k, index, 1) ? nil : m.pick(Pools.firstNames, k, index, 2)
        let last: String? = m.chance(3, k, index, 3) ? nil : m.pick(Pools.lastNames, k, index, 4)
        let email: String? = m.chance(5, k, index, 5) ? nil : "customer\(index + 1).\(m.below(1000, k, index, 6))@example.com"
        let phone: String? = m.chance(50, k, index, 7) ? nil : "+49151\(10_000_000 + m.below(90_000_000, k, index, 8))"
        return Contact(index: index, id: ShopGenerator.customerId(index), first: first, last: last, email: email, phone: phone)
    }

    func customer(index: Int, created: Int64, updated: Int64, touched: Int) -> SimCustomer {
        let m = mix, k = ShopGenerator.kCustomer
        let c = contact(customer: index)
        let first = c.first, last = c.last, email = c.email, phone = c.phone
        var tags: [String] = []
        for t in 0..<m.below(4, k, index, 9) {
            let tag = m.pick(Pools.tags, k, index, 10 + UInt64(t))
            if !tags.contains(tag) { tags.append(tag) }
        }
        if touched > 0 { tags.append("touched") }
        let currency = m.pick(Pools.currencies, k, index, 20)
        let spent = SimMoney(minorUnits: Int64(m.below(500_000, k, index, 21)), currencyCode: currency)
        var addresses: [SimAddress] = []
        let addressCount = m.chance(15, k, index, 22) ? 0 : 1 + m.below(3, k, index, 23)
        for a in 0..<addressCount {
            addresses.append(address(owner: index, slot: a, kind: k, first: first, last: last, phone: a == 0 ? phone : nil))
        }
        return SimCustomer(
            index: index, id: ShopGenerator.customerId(index), firstName: first, lastName: last, email: email, phone: phone,
            note: m.pick(Pools.notes, k, index, 24), tags: tags, state: m.pick(Pools.states, k, index, 25),
            verifiedEmail: email != nil && !m.chance(10, k, index, 26), taxExempt: m.chance(5, k, index, 27),
            locale: m.pick(Pools.locales, k, index, 28), createdAtEpoch: created, updatedAtEpoch: updated,
            amountSpent: spent, addresses: addresses)
    }

    func address(owner: Int, slot: Int, kind: UInt64, first: String?, last: String?, phone: String?) -> SimAddress {
        let m = mix
        let salt = UInt64(100 + slot * 10)
        let c = m.pick(Pools.cities, kind, owner, salt)
        return SimAddress(
            id: ShopGenerator.addressIdBase + Int64(owner) * 4 + Int64(slot) + 1 + (kind == ShopGenerator.kOrder ? 500_000_000_000 : 0),
            firstName: first, lastName: last, company: m.chance(15, kind, owner, salt + 1) ? "Zoë & Co. \"GmbH\"" : nil,
            address1: "\(m.pick(Pools.streets, kind, owner, salt + 2)) \(1 + m.below(200, kind, owner, salt + 3))",
            address2: m.chance(25, kind, owner, salt + 4) ? "Apt. \(1 + m.below(40, kind, owner, salt + 5))" : nil,
            city: c.0, province: c.1, provinceCode: c.2, country: c.3, countryCodeV2: c.4, zip: c.5, phone: phone)
    }

    func order(index: Int, created: Int64, updated: Int64, touched: Int, customer: Contact?) -> SimOrder {
        let m = mix, k = ShopGenerator.kOrder
        let currency = m.pick(Pools.currencies, k, index, 1)
        let digits: Int64 = currency == "JPY" ? 1 : 100
        var items: [SimLineItem] = []
        let oid = ShopGenerator.orderId(index)
        let taxRate = m.pick(Pools.taxRates, k, index, 2)
        var subtotal: Int64 = 0, discounts: Int64 = 0, refunded: Int64 = 0, tax: Int64 = 0
        for p in 0..<lineItemCount(order: index) {
            let li = lineItem(order: index, orderId: oid, position: p, currency: currency, digits: digits, taxRate: taxRate)
            subtotal += li.discountedTotal.minorUnits
            discounts += li.totalDiscount.minorUnits
            refunded += Int64(li.quantity - li.currentQuantity) * li.discountedUnitPrice.minorUnits
            tax += li.taxAmount.minorUnits
            items.append(li)
        }
        let shipping: Int64 = m.chance(40, k, index, 3) ? 0 : (digits == 1 ? 800 : Int64([499, 990, 1500][m.below(3, k, index, 4)]))
        let total = subtotal + tax + shipping
        let cancelled = m.chance(5, k, index, 5)
        var financial = m.pick(Pools.financial, k, index, 6)
        if refunded > 0, financial == "PAID" { financial = refunded >= subtotal ? "REFUNDED" : "PARTIALLY_REFUNDED" }
        let paid = financial == "PAID" || financial == "PARTIALLY_REFUNDED" || financial == "REFUNDED"
        let fulfillment = m.pick(paid ? Pools.paidFulfillment : Pools.unpaidFulfillment, k, index, 7)
        var tags: [String] = []
        for t in 0..<m.below(3, k, index, 8) {
            let tag = m.pick(Pools.tags, k, index, 9 + UInt64(t))
            if !tags.contains(tag) { tags.append(tag) }
        }
        if touched > 0 { tags.append("touched") }
        let guestEmail: String? = m.chance(30, k, index, 12) ? nil : "guest\(index + 1)@example.org"
        let email = customer != nil ? customer?.email : guestEmail
        let ship: SimAddress? =
            m.chance(10, k, index, 13)
            ? nil
            : address(
                owner: index, slot: 0, kind: k, first: customer?.first ?? m.pick(Pools.firstNames, k, index, 14),
                last: customer?.last ?? m.pick(Pools.lastNames, k, index, 15), phone: nil)
        let bill: SimAddress? =
            m.chance(50, k, index, 16)
            ? ship
            : (ship == nil
                ? nil : address(owner: index, slot: 1, kind: k, first: ship?.firstName, last: ship?.lastName, phone: customer?.phone))
        func money(_ v: Int64) -> SimMoney { SimMoney(minorUnits: v, currencyCode: currency) }
        var order = SimOrder(
            index: index, id: oid, name: "#\(1001 + index)", email: email, phone: customer?.phone,
            note: m.pick(Pools.notes, k, index, 17), createdAtEpoch: created, updatedAtEpoch: updated,
            processedAtEpoch: created - Int64(m.chance(5, k, index, 18) ? m.below(86400, k, index, 19) : 0),
            cancelledAtEpoch: cancelled ? created + Int64(3600 + m.below(86400 * 3, k, index, 20)) : nil,
            cancelReason: cancelled ? m.pick(Pools.cancelReasons, k, index, 21) : nil,
            closedAtEpoch: fulfillment == "FULFILLED" ? created + Int64(86400 + m.below(86400 * 10, k, index, 22)) : nil,
            displayFinancialStatus: financial, displayFulfillmentStatus: fulfillment, currencyCode: currency, tags: tags,
            test: m.chance(2, k, index, 23), customerIndex: customer?.index, customerId: customer?.id,
            billingAddress: bill, shippingAddress: ship, subtotalPrice: money(subtotal), totalTax: money(tax),
            totalShippingPrice: money(shipping), totalDiscounts: money(discounts), totalPrice: money(total),
            totalRefunded: money(refunded), currentTotalPrice: money(total - refunded), lineItems: items)
        if !cancelled {
            order.fulfillments = fulfillments(
                order: index, created: created, status: fulfillment, shipped: items.contains { $0.requiresShipping })
        }
        order.refunds = refunds(order: index, created: created, amount: money(refunded))
        return order
    }

    /// The shipments of an order whose `displayFulfillmentStatus` is `status`: none unless fulfilled
    /// (one, sometimes two, when fully fulfilled). Old shipments were mostly delivered; those of the
    /// last ten days of the history (and of orders created after it) are mostly still on their way.
    func fulfillments(order index: Int, created: Int64, status: String, shipped: Bool) -> [SimFulfillment] {
        let count: Int
        switch status {
        case "FULFILLED": count = mix.chance(15, ShopGenerator.kShipment, index, 1) ? 2 : 1
        case "PARTIALLY_FULFILLED": count = 1
        default: return []
        }
        let m = mix, k = ShopGenerator.kShipment
        let recent = created >= ShopGenerator.baseEnd - 10 * 86400
        return (0..<count).map { j in
            let salt = UInt64(10 + j * 20)
            let createdAt = created + Int64(7200 + m.below(3 * 86400, k, index, salt)) + Int64(j * 86400)
            let id = ShopGenerator.fulfillmentIdBase + Int64(index) * 2 + Int64(j) + 1
            guard shipped else {
                return SimFulfillment(
                    id: id, status: "SUCCESS", displayStatus: "FULFILLED", createdAtEpoch: createdAt, inTransitAtEpoch: nil,
                    deliveredAtEpoch: nil, estimatedDeliveryAtEpoch: nil, tracking: [])
            }
            let roll = m.below(100, k, index, salt + 1)
            let display: String
            if recent {
                display =
                    roll < 25
                    ? "DELIVERED"
                    : roll < 75 ? "IN_TRANSIT" : roll < 90 ? "OUT_FOR_DELIVERY" : roll < 95 ? "CONFIRMED" : "ATTEMPTED_DELIVERY"
            } else {
                display = roll < 93 ? "DELIVERED" : roll < 96 ? "IN_TRANSIT" : roll < 98 ? "ATTEMPTED_DELIVERY" : "FAILURE"
            }
            let inTransit: Int64? = display == "CONFIRMED" ? nil : createdAt + Int64(3600 + m.below(20 * 3600, k, index, salt + 2))
            let estimated = inTransit.map { $0 + Int64(86400 + m.below(4 * 86400, k, index, salt + 3)) }
            let delivered = display == "DELIVERED" ? estimated.map { $0 - Int64(m.below(86400, k, index, salt + 4)) } : nil
            var tracking: [SimTracking] = []
            let kind = m.below(1000, k, index, salt + 5)
            if kind >= 40 {  // 4 % ship without tracking
                let carrier =
                    kind < 46
                    ? Carriers.custom : kind < 48 ? Carriers.hostile : Carriers.all[m.below(Carriers.all.count, k, index, salt + 6)]
                let number = trackingNumber(carrier.pattern, index: index, salt: salt + 7)
                tracking.append(SimTracking(company: carrier.company, number: number, url: carrier.url(number)))
            }
            return SimFulfillment(
                id: id, status: "SUCCESS", displayStatus: display, createdAtEpoch: createdAt, inTransitAtEpoch: inTransit,
                deliveredAtEpoch: delivered, estimatedDeliveryAtEpoch: estimated, tracking: tracking)
        }
    }

    func trackingNumber(_ pattern: String, index: Int, salt: UInt64) -> String {
        let digits = Array("0123456789"), alnum = Array("ABCDEFGHJKLMNPRSTUVWXY0123456789"), letters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")
        var out = ""
        for (i, c) in pattern.enumerated() {
            let pool: [Character]? = c == "D" ? digits : c == "A" ? alnum : c == "L" ? letters : nil
            if let pool { out.append(mix.pick(pool, ShopGenerator.kShipment, index, salt &+ UInt64(i) &* 7)) } else { out.append(c) }
        }
        return out
    }

    /// The refunds of an order that refunded `amount` in all: one, or two that add up to it.
    func refunds(order index: Int, created: Int64, amount: SimMoney) -> [SimRefund] {
        guard amount.minorUnits > 0 else { return [] }
        let m = mix, k = ShopGenerator.kRefund
        var parts = [amount.minorUnits]
        if amount.minorUnits >= 2, m.chance(20, k, index, 1) {
            let first = amount.minorUnits / 3
            parts = [max(first, 1), amount.minorUnits - max(first, 1)]
        }
        var at = created + Int64(3 * 86400 + m.below(20 * 86400, k, index, 2))
        return parts.enumerated().map { j, minor in
            defer { at += Int64(86400 + m.below(10 * 86400, k, index, 3 + UInt64(j))) }
            return SimRefund(
                id: ShopGenerator.refundIdBase + Int64(index) * 2 + Int64(j) + 1, createdAtEpoch: at,
                note: m.pick(Pools.refundNotes, k, index, 10 + UInt64(j)),
                amount: SimMoney(minorUnits: minor, currencyCode: amount.currencyCode))
        }
    }

    func lineItem(order: Int, orderId: Int64, position p: Int, currency: String, digits: Int64, taxRate: Int) -> SimLineItem {
        let m = mix, k = ShopGenerator.kLine
        let key = order &* 4 &+ p
        let product = m.below(500, k, key, 1)
        let deleted = m.chance(5, k, key, 2)
        let unit = Int64(199 + m.below(19_800, k, key, 3)) * (digits == 1 ? 1 : 1)
        let discounted = m.chance(20, k, key, 4) ? unit * 9 / 10 : unit
        let quantity = 1 + m.below(5, k, key, 5)
        let current = m.chance(10, k, key, 6) ? quantity - 1 : quantity
        let variantTitle = m.pick(Pools.variants, k, product, 7)
        let sku: String? = m.chance(10, k, key, 8) ? nil : (m.chance(5, k, key, 9) ? "" : "SKU-\(product)-\(m.below(10, k, product, 10))")
        var attrs: [SimAttribute] = []
        if m.chance(10, k, key, 11) { attrs.append(SimAttribute(key: "engraving", value: "Für Zoë ♥\n\"forever\"")) }
        let title = Pools.products[product % Pools.products.count]
        return SimLineItem(
            id: ShopGenerator.lineItemId(order: order, position: p), orderId: orderId, position: p, title: title,
            variantTitle: variantTitle, sku: sku, vendor: m.pick(Pools.vendors, k, product, 12), quantity: quantity,
            currentQuantity: current, productId: deleted ? nil : ShopGenerator.productIdBase + Int64(product) + 1,
            variantId: deleted ? nil : ShopGenerator.variantIdBase + Int64(product) * 10 + 1,
            originalUnitPrice: SimMoney(minorUnits: unit, currencyCode: currency),
            discountedUnitPrice: SimMoney(minorUnits: discounted, currencyCode: currency),
            taxable: taxRate > 0, requiresShipping: title != "Gift card", isGiftCard: title == "Gift card",
            customAttributes: attrs, taxRatePercent: taxRate)
    }
}
