/// Writes shop records (customers, orders, line items and their inline objects) as JSON objects
/// holding exactly the selected fields, under their aliases. Used for bulk lines and for normal
/// query responses alike; in bulk mode connection fields are left out of the line (their nodes
/// become lines of their own).
struct RecordWriter {
    let snapshot: ShopSnapshot
    let bulk: Bool
    /// Writes connections inline in normal (non-bulk) queries.
    var connectionWriter: ((CField, ConnectionOwner, inout JSONWriter) -> Void)?

    enum ConnectionOwner {
        case customer(SimCustomer)
        case order(SimOrder)
    }

    @inline(__always)
    private func skip(_ f: CField) -> Bool { bulk && f.def.kind == .connection }

    func writeCustomer(_ fields: [CField], _ c: SimCustomer, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields where !skip(f) {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("Customer")
            case "id": w.string(c.gid)
            case "legacyResourceId": w.string(c.legacyResourceId)
            case "firstName": w.string(c.firstName)
            case "lastName": w.string(c.lastName)
            case "displayName": w.string(c.displayName)
            case "email": w.string(c.email)
            case "phone": w.string(c.phone)
            case "createdAt": w.string(c.createdAt)
            case "updatedAt": w.string(c.updatedAt)
            case "tags": w.beginArray(); for t in c.tags { w.string(t) }; w.endArray()
            case "note": w.string(c.note)
            case "state": w.string(c.state)
            case "verifiedEmail": w.bool(c.verifiedEmail)
            case "validEmailAddress": w.bool(c.email != nil)
            case "taxExempt": w.bool(c.taxExempt)
            case "locale": w.string(c.locale)
            case "canDelete": w.bool(snapshot.orderIndices(ofCustomer: c.index).isEmpty)
            case "amountSpent": writeMoney(f.children, c.amountSpent, &w)
            case "numberOfOrders": w.string(String(snapshot.orderIndices(ofCustomer: c.index).count))
            case "lastOrder":
                if let last = snapshot.orderIndices(ofCustomer: c.index).last, let o = snapshot.order(at: last) {
                    writeOrder(f.children, o, &w)
                } else {
                    w.null()
                }
            case "defaultAddress":
                if let a = c.defaultAddress { writeAddress(f.children, a, &w) } else { w.null() }
            case "defaultEmailAddress":
                if let e = c.email {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("CustomerEmailAddress")
                        case "emailAddress": w.string(e)
                        case "marketingState": w.string(c.index % 3 == 0 ? "SUBSCRIBED" : "NOT_SUBSCRIBED")
                        case "validFormat": w.bool(true)
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                } else {
                    w.null()
                }
            case "defaultPhoneNumber":
                if let p = c.phone {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("CustomerPhoneNumber")
                        case "phoneNumber": w.string(p)
                        case "marketingState": w.string("NOT_SUBSCRIBED")
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                } else {
                    w.null()
                }
            case "addresses":
                w.beginArray()
                let limit = f.arg("first")?.int ?? Int.max
                for a in c.addresses.prefix(limit) { writeAddress(f.children, a, &w) }
                w.endArray()
            case "addressesV2", "orders", "metafields":
                if let cw = connectionWriter { cw(f, .customer(c), &w) } else { w.null() }
            case "metafield":
                if let m = MetafieldSelection.one(c.metafields, namespace: f.arg("namespace")?.string, key: f.arg("key")?.string) {
                    writeMetafield(f.children, m, &w)
                } else {
                    w.null()
                }
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }

    func writeAddress(_ fields: [CField], _ a: SimAddress, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("MailingAddress")
            case "id": w.string(a.gid)
            case "firstName": w.string(a.firstName)
            case "lastName": w.string(a.lastName)
            case "name": w.string(a.name)
            case "company": w.string(a.company)
            case "address1": w.string(a.address1)
            case "address2": w.string(a.address2)
            case "city": w.string(a.city)
            case "province": w.string(a.province)
            case "provinceCode": w.string(a.provinceCode)
            case "country": w.string(a.country)
            case "countryCodeV2": w.string(a.countryCodeV2)
            case "zip": w.string(a.zip)
            case "phone": w.string(a.phone)
            case "formatted":
                w.beginArray()
                let zipCity: String? = [a.zip, a.city].compactMap { $0 }.joined(separator: " ")
                let lines: [String?] = [a.address1, a.address2, zipCity, a.country]
                for line in lines {
                    if let line, !line.isEmpty { w.string(line) }
                }
                w.endArray()
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }

    func writeMoney(_ fields: [CField], _ m: SimMoney, _ w: inout JSONWriter) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("MoneyV2")
            case "amount": w.string(m.amount)
            case "currencyCode": w.string(m.currencyCode)
            default: w.unmodelled(f)
            }
        }
        w.endObject()
    }

    func writeMoneyBag(_ fields: [CField], _ m: SimMoney, _ w: inout JSONWriter) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("MoneyBag")
            case "shopMoney", "presentmentMoney": writeMoney(f.children, m, &w)
            default: w.unmodelled(f)
            }
        }
        w.endObject()
    }

    func writeOrder(_ fields: [CField], _ o: SimOrder, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields where !skip(f) {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("Order")
            case "id": w.string(o.gid)
            case "legacyResourceId": w.string(o.legacyResourceId)
            case "name": w.string(o.name)
            case "email": w.string(o.email)
            case "phone": w.string(o.phone)
            case "note": w.string(o.note)
            case "createdAt": w.string(o.createdAt)
            case "updatedAt": w.string(o.updatedAt)
            case "processedAt": w.string(ISOTime.format(o.processedAtEpoch))
            case "cancelledAt": w.string(o.cancelledAtEpoch.map(ISOTime.format))
            case "cancelReason": w.string(o.cancelReason)
            case "closedAt": w.string(o.closedAtEpoch.map(ISOTime.format))
            case "closed": w.bool(o.closedAtEpoch != nil)
            case "confirmed": w.bool(true)
            case "displayFinancialStatus": w.string(o.displayFinancialStatus)
            case "displayFulfillmentStatus": w.string(o.displayFulfillmentStatus)
            case "currencyCode", "presentmentCurrencyCode": w.string(o.currencyCode)
            case "tags": w.beginArray(); for t in o.tags { w.string(t) }; w.endArray()
            case "test": w.bool(o.test)
            case "customerLocale": w.string(o.customerIndex == nil ? nil : "en")
            case "sourceName": w.string("web")
            case "customer":
                if let ci = o.customerIndex, let c = snapshot.customer(at: ci) {
                    if f.children.count == 1, f.children[0].name == "id" {  // fast path: customer { id }
                        w.beginObject(); w.key(f.children[0].key); w.string(c.gid); w.endObject()
                    } else {
                        var inner = self
                        inner.connectionWriter = bulk ? nil : connectionWriter
                        inner.writeCustomer(f.children, c, &w)
                    }
                } else {
                    w.null()
                }
            case "billingAddress": if let a = o.billingAddress { writeAddress(f.children, a, &w) } else { w.null() }
            case "shippingAddress": if let a = o.shippingAddress { writeAddress(f.children, a, &w) } else { w.null() }
            case "totalPriceSet": writeMoneyBag(f.children, o.totalPrice, &w)
            case "subtotalPriceSet": writeMoneyBag(f.children, o.subtotalPrice, &w)
            case "totalTaxSet": writeMoneyBag(f.children, o.totalTax, &w)
            case "totalDiscountsSet": writeMoneyBag(f.children, o.totalDiscounts, &w)
            case "totalShippingPriceSet": writeMoneyBag(f.children, o.totalShippingPrice, &w)
            case "totalRefundedSet": writeMoneyBag(f.children, o.totalRefunded, &w)
            case "currentTotalPriceSet": writeMoneyBag(f.children, o.currentTotalPrice, &w)
            case "totalPrice": w.string(o.totalPrice.amount)
            case "subtotalPrice": w.string(o.subtotalPrice.amount)
            case "totalTax": w.string(o.totalTax.amount)
            case "totalDiscounts": w.string(o.totalDiscounts.amount)
            case "totalShippingPrice": w.string(o.totalShippingPrice.amount)
            case "totalRefunded": w.string(o.totalRefunded.amount)
            case "fulfillments":
                w.beginArray()
                for x in o.fulfillments.prefix(f.arg("first")?.int ?? Int.max) { writeFulfillment(f.children, x, &w) }
                w.endArray()
            case "refunds":
                w.beginArray()
                for r in o.refunds.prefix(f.arg("first")?.int ?? Int.max) { writeRefund(f.children, r, &w) }
                w.endArray()
            case "lineItems", "discountApplications", "metafields":
                if let cw = connectionWriter { cw(f, .order(o), &w) } else { w.null() }
            case "metafield":
                if let m = MetafieldSelection.one(o.metafields, namespace: f.arg("namespace")?.string, key: f.arg("key")?.string) {
                    writeMetafield(f.children, m, &w)
                } else {
                    w.null()
                }
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }

    func writeFulfillment(_ fields: [CField], _ x: SimFulfillment, _ w: inout JSONWriter) {
        w.beginObject()
        for g in fields {
            w.key(g.key)
            switch g.name {
            case "__typename": w.string("Fulfillment")
            case "id": w.string(x.gid)
            case "legacyResourceId": w.string(String(x.id))
            case "status": w.string(x.status)
            case "displayStatus": w.string(x.displayStatus)
            case "createdAt": w.string(ISOTime.format(x.createdAtEpoch))
            case "updatedAt": w.string(ISOTime.format(x.deliveredAtEpoch ?? x.inTransitAtEpoch ?? x.createdAtEpoch))
            case "inTransitAt": w.string(x.inTransitAtEpoch.map(ISOTime.format))
            case "deliveredAt": w.string(x.deliveredAtEpoch.map(ISOTime.format))
            case "estimatedDeliveryAt": w.string(x.estimatedDeliveryAtEpoch.map(ISOTime.format))
            case "requiresShipping": w.bool(!x.tracking.isEmpty || x.displayStatus != "FULFILLED")
            case "trackingInfo":
                w.beginArray()
                for t in x.tracking.prefix(g.arg("first")?.int ?? Int.max) {
                    w.beginObject()
                    for h in g.children {
                        w.key(h.key)
                        switch h.name {
                        case "__typename": w.string("FulfillmentTrackingInfo")
                        case "company": w.string(t.company)
                        case "number": w.string(t.number)
                        case "url": w.string(t.url)
                        default: w.unmodelled(h)
                        }
                    }
                    w.endObject()
                }
                w.endArray()
            case "fulfillmentLineItems":
                w.beginObject(); w.key("edges"); w.beginArray(); w.endArray(); w.endObject()
            default: w.unmodelled(g)
            }
        }
        w.endObject()
    }

    func writeRefund(_ fields: [CField], _ r: SimRefund, _ w: inout JSONWriter) {
        w.beginObject()
        for g in fields {
            w.key(g.key)
            switch g.name {
            case "__typename": w.string("Refund")
            case "id": w.string(r.gid)
            case "legacyResourceId": w.string(String(r.id))
            case "createdAt", "processedAt", "updatedAt": w.string(ISOTime.format(r.createdAtEpoch))
            case "note": w.string(r.note)
            case "totalRefundedSet": writeMoneyBag(g.children, r.amount, &w)
            case "totalRefunded": writeMoney(g.children, r.amount, &w)
            default: w.unmodelled(g)
            }
        }
        w.endObject()
    }

    func writeLineItem(_ fields: [CField], _ li: SimLineItem, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("LineItem")
            case "id": w.string(li.gid)
            case "title": w.string(li.title)
            case "name": w.string(li.name)
            case "variantTitle": w.string(li.variantTitle)
            case "sku": w.string(li.sku)
            case "vendor": w.string(li.vendor)
            case "quantity": w.int(li.quantity)
            case "currentQuantity": w.int(li.currentQuantity)
            case "refundableQuantity": w.int(li.refundableQuantity)
            case "unfulfilledQuantity": w.int(li.unfulfilledQuantity)
            case "fulfillableQuantity": w.int(li.unfulfilledQuantity)
            case "variant":
                if let v = li.variantId {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("ProductVariant")
                        case "id": w.string("gid://shopify/ProductVariant/\(v)")
                        case "legacyResourceId": w.string(String(v))
                        case "title": w.string(li.variantTitle ?? "Default Title")
                        case "sku": w.string(li.sku)
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                } else {
                    w.null()
                }
            case "product":
                if let p = li.productId {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("Product")
                        case "id": w.string("gid://shopify/Product/\(p)")
                        case "legacyResourceId": w.string(String(p))
                        case "title": w.string(li.title)
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                } else {
                    w.null()
                }
            case "originalUnitPriceSet": writeMoneyBag(f.children, li.originalUnitPrice, &w)
            case "discountedUnitPriceSet": writeMoneyBag(f.children, li.discountedUnitPrice, &w)
            case "originalTotalSet": writeMoneyBag(f.children, li.originalTotal, &w)
            case "discountedTotalSet": writeMoneyBag(f.children, li.discountedTotal, &w)
            case "totalDiscountSet": writeMoneyBag(f.children, li.totalDiscount, &w)
            case "originalUnitPrice": w.string(li.originalUnitPrice.amount)
            case "discountedUnitPrice": w.string(li.discountedUnitPrice.amount)
            case "originalTotal": w.string(li.originalTotal.amount)
            case "discountedTotal": w.string(li.discountedTotal.amount)
            case "totalDiscount": w.string(li.totalDiscount.amount)
            case "taxable": w.bool(li.taxable)
            case "requiresShipping": w.bool(li.requiresShipping)
            case "isGiftCard": w.bool(li.isGiftCard)
            case "customAttributes":
                w.beginArray()
                for a in li.customAttributes {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("Attribute")
                        case "key": w.string(a.key)
                        case "value": w.string(a.value)
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                }
                w.endArray()
            case "taxLines":
                w.beginArray()
                if li.taxRatePercent > 0 {
                    w.beginObject()
                    for g in f.children {
                        w.key(g.key)
                        switch g.name {
                        case "__typename": w.string("TaxLine")
                        case "title": w.string("VAT")
                        case "rate": w.double(Double(li.taxRatePercent) / 100)
                        case "ratePercentage": w.double(Double(li.taxRatePercent))
                        case "priceSet": writeMoneyBag(g.children, li.taxAmount, &w)
                        default: w.unmodelled(g)
                        }
                    }
                    w.endObject()
                }
                w.endArray()
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }

    func writeMetafield(_ fields: [CField], _ m: SimMetafield, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string("Metafield")
            case "id": w.string(m.gid)
            case "legacyResourceId": w.string(String(m.id))
            case "namespace": w.string(m.namespace)
            case "key": w.string(m.key)
            case "value": w.string(m.value)
            case "type": w.string(m.type)
            case "jsonValue":
                if m.type == "boolean" { w.bool(m.value == "true") } else { w.string(m.value) }
            case "compareDigest": w.string(String(m.value.hashValue.magnitude, radix: 16))
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }

    /// `fields` is the node selection for the application's concrete type.
    func writeDiscountApplication(_ fields: [CField], _ d: SimDiscountApplication, _ w: inout JSONWriter, parentId: String? = nil) {
        w.beginObject()
        for f in fields {
            w.key(f.key)
            switch f.name {
            case "__typename": w.string(d.typename)
            case "allocationMethod": w.string(d.allocationMethod)
            case "index": w.int(d.index)
            case "targetSelection": w.string(d.targetSelection)
            case "targetType": w.string(d.targetType)
            case "code": w.string(d.code)
            case "title": w.string(d.title)
            case "description": w.string(d.title)
            case "value":
                let type = d.amount != nil ? "MoneyV2" : "PricingPercentageValue"
                w.beginObject()
                for g in f.selection(for: type) {
                    w.key(g.key)
                    switch g.name {
                    case "__typename": w.string(type)
                    case "percentage": w.double(d.percentage ?? 0)
                    case "amount": w.string(d.amount?.amount)
                    case "currencyCode": w.string(d.amount?.currencyCode)
                    default: w.unmodelled(g)
                    }
                }
                w.endObject()
            default: w.unmodelled(f)
            }
        }
        if let parentId { w.key("__parentId"); w.string(parentId) }
        w.endObject()
    }
}
