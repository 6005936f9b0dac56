/// The little of the Shopify Admin GraphQL schema that the bulk rules need: which fields are
/// connections (and of which node type), which are plain lists, and the types of a few objects.
///
/// Not the full schema: a field this table does not know is judged by its shape (a selection with
/// `edges { node }` or `nodes` is a connection whose node type is the singular, capitalised field
/// name; anything else with a selection is an object).
enum AdminSchema {
    enum Kind: Sendable, Equatable {
        /// A connection; `nodeType` is the schema type of its nodes, `concreteTypes` the types that
        /// appear in GIDs and `__typename` when `nodeType` is an interface (else just `nodeType`).
        /// `isNode` is false for the few connections whose nodes have no `id` (not bulk-able).
        case connection(nodeType: String, concreteTypes: [String], isNode: Bool)
        /// A plain list of objects (`[Fulfillment!]!`); `type` when known.
        case list(type: String?)
        /// A single object (`customer { id }`); `type` when known.
        case object(type: String?)
    }

    struct Connection {
        var nodeType: String
        var concreteTypes: [String]? = nil
        var isNode = true
    }

    /// Connections by field name, valid whatever the parent type is (unless `connectionsByParent` says otherwise).
    static let connections: [String: Connection] = [
        // QueryRoot fields bulk users run.
        "customers": .init(nodeType: "Customer"),
        "orders": .init(nodeType: "Order"),
        "draftOrders": .init(nodeType: "DraftOrder"),
        "products": .init(nodeType: "Product"),
        "productVariants": .init(nodeType: "ProductVariant"),
        "collections": .init(nodeType: "Collection"),
        "locations": .init(nodeType: "Location"),
        "inventoryItems": .init(nodeType: "InventoryItem"),
        "inventoryLevels": .init(nodeType: "InventoryLevel"),
        "fulfillmentOrders": .init(nodeType: "FulfillmentOrder"),
        "companies": .init(nodeType: "Company"),
        "companyLocations": .init(nodeType: "CompanyLocation"),
        "contacts": .init(nodeType: "CompanyContact"),
        "giftCards": .init(nodeType: "GiftCard"),
        "metafieldDefinitions": .init(nodeType: "MetafieldDefinition"),
        "metaobjects": .init(nodeType: "Metaobject"),
        "abandonedCheckouts": .init(nodeType: "AbandonedCheckout"),
        "subscriptionContracts": .init(nodeType: "SubscriptionContract"),
        "sellingPlanGroups": .init(nodeType: "SellingPlanGroup"),
        "publications": .init(nodeType: "Publication"),
        "markets": .init(nodeType: "Market"),
        "segments": .init(nodeType: "Segment"),
        "articles": .init(nodeType: "Article"),
        "blogs": .init(nodeType: "Blog"),
        "pages": .init(nodeType: "Page"),
        "urlRedirects": .init(nodeType: "UrlRedirect"),
        "webhookSubscriptions": .init(nodeType: "WebhookSubscription"),
        "deliveryProfiles": .init(nodeType: "DeliveryProfile"),
        "discountNodes": .init(nodeType: "DiscountNode"),
        "codeDiscountNodes": .init(nodeType: "DiscountCodeNode"),
        "automaticDiscountNodes": .init(nodeType: "DiscountAutomaticNode"),
        "files": .init(nodeType: "File", concreteTypes: ["GenericFile", "MediaImage", "Video", "ExternalVideo", "Model3d"]),
        "events": .init(nodeType: "Event", concreteTypes: ["BasicEvent", "CommentEvent"]),
        // Nested connections.
        "lineItems": .init(nodeType: "LineItem"),
        "addressesV2": .init(nodeType: "MailingAddress"),
        "variants": .init(nodeType: "ProductVariant"),
        "metafields": .init(nodeType: "Metafield"),
        "media": .init(nodeType: "Media", concreteTypes: ["MediaImage", "Video", "ExternalVideo", "Model3d"]),
        "returns": .init(nodeType: "Return"),
        "returnLineItems": .init(nodeType: "ReturnLineItem"),
        "refundLineItems": .init(nodeType: "RefundLineItem"),
        "fulfillmentLineItems": .init(nodeType: "FulfillmentLineItem"),
        "paymentMethods": .init(nodeType: "CustomerPaymentMethod"),
        "storeCreditAccounts": .init(nodeType: "StoreCreditAccount"),
        "agreements": .init(
            nodeType: "SalesAgreement", concreteTypes: ["OrderAgreement", "OrderEditAgreement", "RefundAgreement", "ReturnAgreement"]),
        // Connections whose nodes have no id (leaf connections in bulk: lines with __parentId only).
        "discountApplications": .init(nodeType: "DiscountApplication", concreteTypes: interfaces["DiscountApplication"], isNode: false),
        "shippingLines": .init(nodeType: "ShippingLine", isNode: false),
    ]

    /// Interfaces whose concrete types appear as `__typename` (a mapping section may name the interface).
    static let interfaces: [String: [String]] = [
        "DiscountApplication": [
            "AutomaticDiscountApplication", "DiscountCodeApplication", "ManualDiscountApplication", "ScriptDiscountApplication",
        ]
    ]

    /// Where the same field name means something else under a particular parent type.
    static let byParent: [String: [String: Kind]] = [
        "Order": [
            "transactions": .list(type: "OrderTransaction"),
            "fulfillments": .list(type: "Fulfillment"),
            "refunds": .list(type: "Refund"),
        ],
        "Refund": ["transactions": .connection(nodeType: "OrderTransaction", concreteTypes: ["OrderTransaction"], isNode: true)],
        "DraftOrder": ["lineItems": .connection(nodeType: "DraftOrderLineItem", concreteTypes: ["DraftOrderLineItem"], isNode: true)],
        "FulfillmentOrder": [
            "lineItems": .connection(nodeType: "FulfillmentOrderLineItem", concreteTypes: ["FulfillmentOrderLineItem"], isNode: true),
            "fulfillments": .connection(nodeType: "Fulfillment", concreteTypes: ["Fulfillment"], isNode: true),
        ],
        "AbandonedCheckout": [
            "lineItems": .connection(nodeType: "AbandonedCheckoutLineItem", concreteTypes: ["AbandonedCheckoutLineItem"], isNode: true)
        ],
        "Fulfillment": ["events": .connection(nodeType: "FulfillmentEvent", concreteTypes: ["FulfillmentEvent"], isNode: true)],
        "Company": ["locations": .connection(nodeType: "CompanyLocation", concreteTypes: ["CompanyLocation"], isNode: true)],
    ]

    /// Plain lists of objects, whatever the parent (a connection inside one is rejected by bulk).
    static let lists: [String: String] = [
        "fulfillments": "Fulfillment",
        "refunds": "Refund",
        "addresses": "MailingAddress",
        "customAttributes": "Attribute",
        "taxLines": "TaxLine",
        "discountAllocations": "DiscountAllocation",
        "selectedOptions": "SelectedOption",
        "options": "ProductOption",
        "trackingInfo": "FulfillmentTrackingInfo",
        "duties": "Duty",
        "fields": "MetaobjectField",
        "companyContactProfiles": "CompanyContact",
        "risks": "OrderRisk",
    ]

    /// Object fields whose type matters because connections can hang below them.
    static let objects: [String: String] = [
        "customer": "Customer",
        "order": "Order",
        "lastOrder": "Order",
        "product": "Product",
        "variant": "ProductVariant",
        "inventoryItem": "InventoryItem",
        "location": "Location",
        "company": "Company",
        "fulfillmentOrder": "FulfillmentOrder",
        "refund": "Refund",
        "draftOrder": "DraftOrder",
    ]

    /// What `name` is under `parent` (a node or object type; `QueryRoot` at the top), or nil if unknown.
    static func kind(of name: String, parent: String?) -> Kind? {
        if let parent, let special = byParent[parent]?[name] { return special }
        if let c = connections[name] {
            return .connection(nodeType: c.nodeType, concreteTypes: c.concreteTypes ?? [c.nodeType], isNode: c.isNode)
        }
        if let element = lists[name] { return .list(type: element) }
        if let type = objects[name] { return .object(type: type) }
        return nil
    }

    /// `lineItems` → `LineItem`, `categories` → `Category`, `addresses` → `Address`: the node type of a
    /// connection this table does not know (a guess: `__typename` cannot be known without the schema).
    static func derivedNodeType(_ field: String) -> String {
        var s = field
        if s.hasSuffix("ies") {
            s = String(s.dropLast(3)) + "y"
        } else if s.hasSuffix("sses") || s.hasSuffix("xes") || s.hasSuffix("ches") || s.hasSuffix("shes") {
            s = String(s.dropLast(2))
        } else if s.hasSuffix("s") && !s.hasSuffix("ss") {
            s = String(s.dropLast())
        }
        guard let first = s.first else { return field }
        return first.uppercased() + s.dropFirst()
    }

    /// The sort key that pairs with a window on `field` (the docs' tip against range-search timeouts).
    static func sortKey(forWindowField field: String) -> String? {
        switch field {
        case "updated_at": return "UPDATED_AT"
        case "created_at", "customer_date": return "CREATED_AT"
        default: return nil
        }
    }
}
