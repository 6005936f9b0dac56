import Foundation

/// A money amount in a currency's minor units, printed the way Shopify prints `Decimal` amounts
/// (`"8.97"`, `"20.0"`, `"1500.0"`).
public struct SimMoney: Sendable, Hashable {
    /// Amount in minor units (cents; whole yen for JPY).
    public var minorUnits: Int64
    public var currencyCode: String

    public init(minorUnits: Int64, currencyCode: String) {
        self.minorUnits = minorUnits
        self.currencyCode = currencyCode
    }

    /// Number of decimal places of the currency (0 for JPY, 2 otherwise in this simulator).
    public var fractionDigits: Int { currencyCode == "JPY" ? 0 : 2 }

    /// The amount as Shopify writes it: a decimal string with at least one fractional digit.
    public var amount: String {
        if fractionDigits == 0 { return "\(minorUnits).0" }
        let neg = minorUnits < 0
        let v = minorUnits.magnitude
        let whole = v / 100, frac = v % 100
        let fracText = frac == 0 ? "0" : (frac % 10 == 0 ? "\(frac / 10)" : (frac < 10 ? "0\(frac)" : "\(frac)"))
        return (neg ? "-" : "") + "\(whole).\(fracText)"
    }

    /// The amount as a `Decimal`, for comparing sums with loaded tables.
    public var decimal: Decimal { Decimal(string: amount) ?? 0 }
}

/// An address (Shopify's `MailingAddress`), inline on customers and orders, and the node of
/// `Customer.addressesV2`.
public struct SimAddress: Sendable, Hashable {
    public var id: Int64
    /// `gid://shopify/MailingAddress/<id>?model_name=CustomerAddress`, as Shopify writes it.
    public var gid: String { "gid://shopify/MailingAddress/\(id)?model_name=CustomerAddress" }
    public var firstName: String?
    public var lastName: String?
    public var company: String?
    public var address1: String?
    public var address2: String?
    public var city: String?
    public var province: String?
    public var provinceCode: String?
    public var country: String?
    public var countryCodeV2: String?
    public var zip: String?
    public var phone: String?
    public var name: String? {
        let parts = [firstName, lastName].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }
}

/// One customer of the generated shop, with the values a bulk export reports.
public struct SimCustomer: Sendable, Hashable {
    /// Position in the generator (0-based, stable); also the order of `sortKey: ID`.
    public var index: Int
    public var id: Int64
    public var gid: String { "gid://shopify/Customer/\(id)" }
    public var legacyResourceId: String { String(id) }
    public var firstName: String?
    public var lastName: String?
    public var email: String?
    public var phone: String?
    public var note: String?
    public var tags: [String]
    public var state: String
    public var verifiedEmail: Bool
    public var taxExempt: Bool
    public var locale: String
    public var createdAtEpoch: Int64
    public var updatedAtEpoch: Int64
    public var amountSpent: SimMoney
    /// All addresses; the first one is `defaultAddress`.
    public var addresses: [SimAddress]

    public var createdAt: String { ISOTime.format(createdAtEpoch) }
    public var updatedAt: String { ISOTime.format(updatedAtEpoch) }
    public var displayName: String {
        let parts = [firstName, lastName].compactMap { $0 }
        return parts.isEmpty ? (email ?? "") : parts.joined(separator: " ")
    }
    public var defaultAddress: SimAddress? { addresses.first }
}

/// One order of the generated shop. Money fields are in the order's `currencyCode`.
public struct SimOrder: Sendable, Hashable {
    public var index: Int
    public var id: Int64
    public var gid: String { "gid://shopify/Order/\(id)" }
    public var legacyResourceId: String { String(id) }
    public var name: String
    public var email: String?
    public var phone: String?
    public var note: String?
    public var createdAtEpoch: Int64
    public var updatedAtEpoch: Int64
    public var processedAtEpoch: Int64
    public var cancelledAtEpoch: Int64?
    public var cancelReason: String?
    public var closedAtEpoch: Int64?
    public var displayFinancialStatus: String?
    public var displayFulfillmentStatus: String
    public var currencyCode: String
    public var tags: [String]
    public var test: Bool
    /// The customer's generator index; `nil` for guest checkouts (and when the customer was deleted).
    public var customerIndex: Int?
    public var customerId: Int64?
    public var customerGid: String? { customerId.map { "gid://shopify/Customer/\($0)" } }
    public var billingAddress: SimAddress?
    public var shippingAddress: SimAddress?
    public var subtotalPrice: SimMoney
    public var totalTax: SimMoney
    public var totalShippingPrice: SimMoney
    public var totalDiscounts: SimMoney
    public var totalPrice: SimMoney
    public var totalRefunded: SimMoney
    public var currentTotalPrice: SimMoney
    public var lineItems: [SimLineItem]
    /// Shipments, oldest first (none for unfulfilled and cancelled orders).
    public var fulfillments: [SimFulfillment] = []
    /// Refunds, oldest first; their amounts add up to `totalRefunded`.
    public var refunds: [SimRefund] = []

    public var createdAt: String { ISOTime.format(createdAtEpoch) }
    public var updatedAt: String { ISOTime.format(updatedAtEpoch) }
}

/// One shipment of an order, as `Order.fulfillments` lists it.
public struct SimFulfillment: Sendable, Hashable {
    public var id: Int64
    public var gid: String { "gid://shopify/Fulfillment/\(id)" }
    /// `FulfillmentStatus`: `SUCCESS`, `CANCELLED` …
    public var status: String
    /// `FulfillmentDisplayStatus`: `DELIVERED`, `IN_TRANSIT`, `OUT_FOR_DELIVERY`, `ATTEMPTED_DELIVERY` …
    public var displayStatus: String
    public var createdAtEpoch: Int64
    public var inTransitAtEpoch: Int64?
    public var deliveredAtEpoch: Int64?
    public var estimatedDeliveryAtEpoch: Int64?
    /// Empty for a shipment without tracking (local delivery, a digital good).
    public var tracking: [SimTracking]
}

/// A carrier's tracking number for a shipment.
public struct SimTracking: Sendable, Hashable {
    public var company: String
    public var number: String
    public var url: String?
}

/// A refund of (part of) an order.
public struct SimRefund: Sendable, Hashable {
    public var id: Int64
    public var gid: String { "gid://shopify/Refund/\(id)" }
    public var createdAtEpoch: Int64
    public var note: String?
    public var amount: SimMoney
}

/// One line item of an order.
public struct SimLineItem: Sendable, Hashable {
    public var id: Int64
    public var gid: String { "gid://shopify/LineItem/\(id)" }
    public var orderId: Int64
    public var orderGid: String { "gid://shopify/Order/\(orderId)" }
    /// Position within the order.
    public var position: Int
    public var title: String
    public var variantTitle: String?
    public var sku: String?
    public var vendor: String?
    public var quantity: Int
    public var currentQuantity: Int
    public var productId: Int64?
    public var variantId: Int64?
    public var originalUnitPrice: SimMoney
    public var discountedUnitPrice: SimMoney
    public var taxable: Bool
    public var requiresShipping: Bool
    public var isGiftCard: Bool
    public var customAttributes: [SimAttribute]
    public var taxRatePercent: Int

    public var name: String { variantTitle.map { "\(title) - \($0)" } ?? title }
    public var originalTotal: SimMoney {
        SimMoney(minorUnits: originalUnitPrice.minorUnits * Int64(quantity), currencyCode: originalUnitPrice.currencyCode)
    }
    public var discountedTotal: SimMoney {
        SimMoney(minorUnits: discountedUnitPrice.minorUnits * Int64(quantity), currencyCode: discountedUnitPrice.currencyCode)
    }
    public var totalDiscount: SimMoney {
        SimMoney(minorUnits: originalTotal.minorUnits - discountedTotal.minorUnits, currencyCode: originalUnitPrice.currencyCode)
    }
    public var refundableQuantity: Int { currentQuantity }
    public var unfulfilledQuantity: Int { 0 }
    public var taxAmount: SimMoney {
        SimMoney(minorUnits: discountedTotal.minorUnits * Int64(taxRatePercent) / 100, currencyCode: discountedUnitPrice.currencyCode)
    }
}

public struct SimAttribute: Sendable, Hashable {
    public var key: String
    public var value: String?
}
