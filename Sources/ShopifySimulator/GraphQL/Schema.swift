/// The slice of the Admin API schema the simulator serves: enough for bulk exports of customers,
/// orders and line items, and for managing bulk operations. Field availability follows the API
/// versions in the project's notes (§1, §2, §7, §8).
enum FieldKind: Sendable, Equatable {
    case scalar
    case scalarList
    case object
    case objectList
    case connection
}

struct FieldDef: Sendable {
    var name: String
    var kind: FieldKind
    /// Named type of the value (objects), of the list elements, or of a connection's nodes.
    var type: String
    var args: Set<String> = []
    /// First API version (as yyyymm) that has the field.
    var since: Int = 0
    /// Last API version (as yyyymm) that has the field.
    var until: Int = .max
    /// Arguments that must be given (non-null).
    var required: Set<String> = []
    /// Whether the value may be null (fields the simulator does not model answer null then).
    var nullable: Bool = true
    /// Known only from the real schema (`--schema`): the simulator has no data for it.
    var unmodelled: Bool = false
    /// The schema type the selection set is on, when it is not derived from `type` (`XConnection`).
    var selectionTypeName: String? = nil
    /// A type-correct JSON value for a non-null leaf that is not modelled.
    var leafDefault: [UInt8]? = nil
}

/// An API version as a number: `2026-01` → 202601; `unstable` → the newest.
struct APIVersion: Sendable, Comparable, CustomStringConvertible {
    var value: Int
    var text: String

    static let unstable = APIVersion(value: 999_912, text: "unstable")

    init(value: Int, text: String) { self.value = value; self.text = text }

    init?(_ text: String) {
        if text == "unstable" { self = .unstable; return }
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]),
            [1, 4, 7, 10].contains(m)
        else { return nil }
        self.value = y * 100 + m
        self.text = text
    }

    static func < (a: APIVersion, b: APIVersion) -> Bool { a.value < b.value }
    var description: String { text }

    /// Versions the simulator knows (oldest first).
    static let known = ["2024-10", "2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10"]
}

enum Schema {
    static let connectionArgs: Set<String> = ["first", "last", "after", "before", "query", "sortKey", "reverse"]

    static func f(
        _ name: String, _ kind: FieldKind = .scalar, _ type: String = "", args: Set<String> = [], since: Int = 0, until: Int = .max,
        required: Set<String> = []
    ) -> FieldDef {
        FieldDef(name: name, kind: kind, type: type, args: args, since: since, until: until, required: required)
    }

    /// Object types that implement `Node`.
    static let nodeTypes: Set<String> = [
        "BulkOperation", "Customer", "Order", "LineItem", "MailingAddress", "Product", "ProductVariant", "Fulfillment", "AppInstallation",
        "Shop", "Metafield",
    ]

    static let types: [String: [String: FieldDef]] = {
        var t: [String: [String: FieldDef]] = [:]
        func add(_ name: String, _ defs: [FieldDef]) {
            var m: [String: FieldDef] = [:]
            for d in defs { m[d.name] = d }
            t[name] = m
        }
        add(
            "QueryRoot",
            [
                f("bulkOperation", .object, "BulkOperation", args: ["id"], since: 202601, required: ["id"]),
                f("bulkOperations", .connection, "BulkOperation", args: connectionArgs, since: 202601),
                f("currentBulkOperation", .object, "BulkOperation", args: ["type"]),
                f("node", .object, "Node", args: ["id"], required: ["id"]),
                f("nodes", .objectList, "Node", args: ["ids"], required: ["ids"]),
                f("currentAppInstallation", .object, "AppInstallation"),
                f("shop", .object, "Shop"),
                f("customers", .connection, "Customer", args: connectionArgs),
                f("orders", .connection, "Order", args: connectionArgs),
                f("customer", .object, "Customer", args: ["id"], required: ["id"]),
                f("order", .object, "Order", args: ["id"], required: ["id"]),
            ])
        add(
            "Mutation",
            [
                f("bulkOperationRunQuery", .object, "BulkOperationRunQueryPayload", args: ["query", "groupObjects"], required: ["query"]),
                f("bulkOperationCancel", .object, "BulkOperationCancelPayload", args: ["id"], required: ["id"]),
            ])
        add(
            "BulkOperationRunQueryPayload",
            [f("bulkOperation", .object, "BulkOperation"), f("userErrors", .objectList, "BulkOperationUserError")])
        add("BulkOperationUserError", [f("field", .scalarList), f("message"), f("code", since: 202501)])
        add("BulkOperationCancelPayload", [f("bulkOperation", .object, "BulkOperation"), f("userErrors", .objectList, "UserError")])
        add("UserError", [f("field", .scalarList), f("message")])
        add(
            "BulkOperation",
            [
                f("id"), f("status"), f("errorCode"), f("createdAt"), f("completedAt"), f("objectCount"), f("rootObjectCount"),
                f("fileSize"), f("url"), f("partialDataUrl"), f("query"), f("type"),
            ])
        add("AppInstallation", [f("id"), f("accessScopes", .objectList, "AccessScope")])
        add("AccessScope", [f("handle"), f("description")])
        add("Shop", [f("id"), f("name"), f("myshopifyDomain"), f("currencyCode"), f("email")])
        add("PageInfo", [f("hasNextPage"), f("hasPreviousPage"), f("startCursor"), f("endCursor")])
        add(
            "Customer",
            [
                f("id"), f("legacyResourceId"), f("firstName"), f("lastName"), f("displayName"), f("email"), f("phone"),
                f("createdAt"), f("updatedAt"), f("tags", .scalarList), f("note"), f("state"), f("verifiedEmail"), f("validEmailAddress"),
                f("taxExempt"), f("locale"), f("amountSpent", .object, "MoneyV2"), f("numberOfOrders"),
                f("lastOrder", .object, "Order"), f("defaultAddress", .object, "MailingAddress"),
                f("defaultEmailAddress", .object, "CustomerEmailAddress"),
                f("defaultPhoneNumber", .object, "CustomerPhoneNumber", since: 202504),
                f("addresses", .objectList, "MailingAddress", args: ["first"]),
                f("addressesV2", .connection, "MailingAddress", args: connectionArgs),
                f("orders", .connection, "Order", args: connectionArgs),
                f("canDelete"),
                f("metafield", .object, "Metafield", args: ["namespace", "key"], required: ["key"]),
                f("metafields", .connection, "Metafield", args: connectionArgs.union(["namespace", "keys"])),
            ])
        add("CustomerEmailAddress", [f("emailAddress"), f("marketingState"), f("validFormat")])
        add("CustomerPhoneNumber", [f("phoneNumber"), f("marketingState")])
        add(
            "MailingAddress",
            [
                f("id"), f("firstName"), f("lastName"), f("name"), f("company"), f("address1"), f("address2"), f("city"),
                f("province"), f("provinceCode"), f("country"), f("countryCodeV2"), f("zip"), f("phone"), f("formatted", .scalarList),
            ])
        add("MoneyV2", [f("amount"), f("currencyCode")])
        add("MoneyBag", [f("shopMoney", .object, "MoneyV2"), f("presentmentMoney", .object, "MoneyV2")])
        add(
            "Order",
            [
                f("id"), f("legacyResourceId"), f("name"), f("email"), f("phone"), f("note"), f("createdAt"), f("updatedAt"),
                f("processedAt"), f("cancelledAt"), f("cancelReason"), f("closedAt"), f("closed"), f("confirmed"),
                f("displayFinancialStatus"), f("displayFulfillmentStatus"), f("currencyCode"), f("presentmentCurrencyCode"),
                f("tags", .scalarList), f("test"), f("customer", .object, "Customer"),
                f("billingAddress", .object, "MailingAddress"), f("shippingAddress", .object, "MailingAddress"),
                f("totalPriceSet", .object, "MoneyBag"), f("subtotalPriceSet", .object, "MoneyBag"), f("totalTaxSet", .object, "MoneyBag"),
                f("totalDiscountsSet", .object, "MoneyBag"), f("totalShippingPriceSet", .object, "MoneyBag"),
                f("totalRefundedSet", .object, "MoneyBag"), f("currentTotalPriceSet", .object, "MoneyBag"),
                f("totalPrice"), f("subtotalPrice"), f("totalTax"), f("totalDiscounts"), f("totalShippingPrice"), f("totalRefunded"),
                f("lineItems", .connection, "LineItem", args: connectionArgs),
                f("fulfillments", .objectList, "Fulfillment", args: ["first"]),
                f("refunds", .objectList, "Refund", args: ["first"]),
                f("customerLocale"), f("sourceName"),
                f("discountApplications", .connection, "DiscountApplication", args: ["first", "last", "after", "before", "reverse"]),
                f("metafield", .object, "Metafield", args: ["namespace", "key"], required: ["key"]),
                f("metafields", .connection, "Metafield", args: connectionArgs.union(["namespace", "keys"])),
            ])
        add(
            "Fulfillment",
            [
                f("id"), f("legacyResourceId"), f("status"), f("displayStatus"), f("createdAt"), f("updatedAt"), f("inTransitAt"),
                f("deliveredAt"), f("estimatedDeliveryAt"), f("requiresShipping"),
                f("trackingInfo", .objectList, "FulfillmentTrackingInfo", args: ["first"]),
                f("fulfillmentLineItems", .connection, "FulfillmentLineItem", args: connectionArgs),
            ])
        add("FulfillmentTrackingInfo", [f("company"), f("number"), f("url")])
        add(
            "Refund",
            [
                f("id"), f("legacyResourceId"), f("createdAt"), f("processedAt"), f("updatedAt"), f("note"),
                f("totalRefundedSet", .object, "MoneyBag"), f("totalRefunded", .object, "MoneyV2"),
            ])
        add("FulfillmentLineItem", [f("id"), f("quantity"), f("lineItem", .object, "LineItem")])
        add(
            "LineItem",
            [
                f("id"), f("title"), f("name"), f("variantTitle"), f("sku"), f("vendor"), f("quantity"), f("currentQuantity"),
                f("refundableQuantity"), f("unfulfilledQuantity"), f("fulfillableQuantity"), f("variant", .object, "ProductVariant"),
                f("product", .object, "Product"), f("originalUnitPriceSet", .object, "MoneyBag"),
                f("discountedUnitPriceSet", .object, "MoneyBag"), f("originalTotalSet", .object, "MoneyBag"),
                f("discountedTotalSet", .object, "MoneyBag"), f("totalDiscountSet", .object, "MoneyBag"), f("taxable"),
                f("requiresShipping"), f("isGiftCard"), f("customAttributes", .objectList, "Attribute"),
                f("taxLines", .objectList, "TaxLine", args: ["first"]), f("originalUnitPrice"), f("discountedUnitPrice"),
                f("originalTotal"), f("discountedTotal"), f("totalDiscount"),
            ])
        add("ProductVariant", [f("id"), f("legacyResourceId"), f("title"), f("sku")])
        add("Product", [f("id"), f("legacyResourceId"), f("title")])
        add("Attribute", [f("key"), f("value")])
        add("TaxLine", [f("title"), f("rate"), f("ratePercentage"), f("priceSet", .object, "MoneyBag")])
        add("Node", [f("id")])
        add(
            "Metafield",
            [
                f("id"), f("legacyResourceId"), f("namespace"), f("key"), f("value"), f("type"), f("jsonValue"), f("createdAt"),
                f("updatedAt"), f("ownerType"), f("compareDigest"),
            ])
        // Discount applications: an interface (no id) and its concrete types; `value` is the union PricingValue.
        let discountFields = [
            f("allocationMethod"), f("index"), f("targetSelection"), f("targetType"), f("value", .object, "PricingValue"),
        ]
        add("DiscountApplication", discountFields)
        add("DiscountCodeApplication", discountFields + [f("code")])
        add("AutomaticDiscountApplication", discountFields + [f("title")])
        add("ManualDiscountApplication", discountFields + [f("title"), f("description")])
        add("ScriptDiscountApplication", discountFields + [f("title")])
        add("PricingValue", [])
        add("PricingPercentageValue", [f("percentage")])
        add(
            "DiscountApplicationConnection",
            [
                f("edges", .objectList, "DiscountApplicationEdge"), f("nodes", .objectList, "DiscountApplication"),
                f("pageInfo", .object, "PageInfo"),
            ])
        add("DiscountApplicationEdge", [f("cursor"), f("node", .object, "DiscountApplication")])
        // Connection and edge types for every node type used in a connection.
        for node in ["BulkOperation", "Customer", "Order", "LineItem", "MailingAddress", "FulfillmentLineItem", "Metafield"] {
            add(
                "\(node)Connection",
                [f("edges", .objectList, "\(node)Edge"), f("nodes", .objectList, node), f("pageInfo", .object, "PageInfo")])
            add("\(node)Edge", [f("cursor"), f("node", .object, node)])
        }
        return t
    }()

    /// The field's definition on a type, if the version has it.
    static func field(_ name: String, on type: String, version: Int) -> FieldDef? {
        guard let d = types[type]?[name], version >= d.since, version <= d.until else { return nil }
        return d
    }

    /// Abstract types other than `Node` and their concrete types.
    static let abstractTypes: [String: [String]] = [
        "DiscountApplication": [
            "AutomaticDiscountApplication", "DiscountCodeApplication", "ManualDiscountApplication", "ScriptDiscountApplication",
        ],
        "PricingValue": ["MoneyV2", "PricingPercentageValue"],
    ]

    /// Deprecated fields (`Type.field`) and the version from which the simulator reports them in
    /// `X-Shopify-API-Deprecated-Reason` (the header exists from 2025-04).
    static let deprecated: [String: Int] = {
        var d: [String: Int] = ["QueryRoot.currentBulkOperation": 202601]
        for f in ["email", "phone", "addresses", "validEmailAddress"] { d["Customer.\(f)"] = 202504 }
        for f in ["totalPrice", "subtotalPrice", "totalTax", "totalDiscounts", "totalShippingPrice", "totalRefunded"] {
            d["Order.\(f)"] = 202504
        }
        for f in ["originalUnitPrice", "discountedUnitPrice", "originalTotal", "discountedTotal", "totalDiscount", "fulfillableQuantity"] {
            d["LineItem.\(f)"] = 202504
        }
        return d
    }()

    /// The type a field's selection set is on: the connection type for connections.
    static func selectionType(of def: FieldDef) -> String {
        if let t = def.selectionTypeName { return t }
        return def.kind == .connection ? "\(def.type)Connection" : def.type
    }
}
