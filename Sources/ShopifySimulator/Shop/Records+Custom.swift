/// A custom field of a customer or order (`Metafield`).
public struct SimMetafield: Sendable, Hashable {
    public var id: Int64
    public var gid: String { "gid://shopify/Metafield/\(id)" }
    public var namespace: String
    public var key: String
    public var value: String
    public var type: String
}

/// A discount applied to an order (`DiscountApplication`): no id of its own; `index` is its position.
public struct SimDiscountApplication: Sendable, Hashable {
    /// The concrete GraphQL type (`DiscountCodeApplication`, `AutomaticDiscountApplication`).
    public var typename: String
    public var index: Int
    public var allocationMethod: String
    public var targetSelection: String
    public var targetType: String
    /// `DiscountCodeApplication.code`.
    public var code: String?
    /// `AutomaticDiscountApplication.title`.
    public var title: String?
    /// A percentage (`PricingPercentageValue`) or an amount (`MoneyV2`).
    public var percentage: Double?
    public var amount: SimMoney?
}

extension SimCustomer {
    /// Deterministic custom fields: every customer has `custom.loyalty_tier`; every seventh is `custom.vip`.
    public var metafields: [SimMetafield] {
        let tiers = ["bronze", "silver", "gold", "platinum"]
        var out = [
            SimMetafield(
                id: 8_000_000_000 + id % 1_000_000_000 * 4, namespace: "custom", key: "loyalty_tier", value: tiers[index % tiers.count],
                type: "single_line_text_field")
        ]
        if index % 7 == 0 {
            out.append(
                SimMetafield(
                    id: 8_000_000_000 + id % 1_000_000_000 * 4 + 1, namespace: "custom", key: "vip", value: "true", type: "boolean"))
        }
        return out
    }
}

extension SimOrder {
    /// Deterministic discount applications: every other order used a code, every fifth also got an
    /// automatic discount.
    public var discountApplications: [SimDiscountApplication] {
        var out: [SimDiscountApplication] = []
        if index % 2 == 0 {
            out.append(
                SimDiscountApplication(
                    typename: "DiscountCodeApplication", index: out.count, allocationMethod: "ACROSS", targetSelection: "ALL",
                    targetType: "LINE_ITEM", code: "SAVE\(5 + index % 4 * 5)", percentage: Double(5 + index % 4 * 5)))
        }
        if index % 5 == 0 {
            out.append(
                SimDiscountApplication(
                    typename: "AutomaticDiscountApplication", index: out.count, allocationMethod: "EACH", targetSelection: "ENTITLED",
                    targetType: "SHIPPING_LINE", title: "Free shipping", amount: SimMoney(minorUnits: 495, currencyCode: currencyCode)))
        }
        return out
    }

    /// Order metafields: `custom.gift_note` on every third order.
    public var metafields: [SimMetafield] {
        index % 3 == 0
            ? [
                SimMetafield(
                    id: 8_900_000_000 + id % 1_000_000_000, namespace: "custom", key: "gift_note", value: "Happy birthday",
                    type: "multi_line_text_field")
            ]
            : []
    }
}

/// The metafields an argument list selects: `metafield(namespace:key:)` (a key may be written
/// `namespace.key`) and `metafields(namespace:keys:)`.
enum MetafieldSelection {
    static func one(_ all: [SimMetafield], namespace: String?, key: String?) -> SimMetafield? {
        guard var key else { return nil }
        var ns = namespace
        if ns == nil, let dot = key.firstIndex(of: ".") {
            ns = String(key[..<dot])
            key = String(key[key.index(after: dot)...])
        }
        guard let ns else { return nil }  // the app-reserved namespace holds nothing here
        return all.first { $0.namespace == ns && $0.key == key }
    }

    static func many(_ all: [SimMetafield], namespace: String?, keys: [String]?) -> [SimMetafield] {
        all.filter { m in
            (namespace == nil || m.namespace == namespace) && (keys == nil || keys!.contains("\(m.namespace).\(m.key)"))
        }
    }
}
