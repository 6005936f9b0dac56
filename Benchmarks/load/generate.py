#!/usr/bin/env python3
"""Generates a Shopify-shaped bulk result for queries/orders.graphql, and the equivalent CSV files.

The JSONL holds one Order line per order and one LineItem line per line item (with __parentId).
By default it is ungrouped like `groupObjects: false` output: about 25% of the orders have their line items
just before them, about 10% have them far after them (released 1..2000 orders later, i.e. up to ~7,000 lines
after their parent), the rest directly after them. With --grouped every order is directly followed by its
line items. Both layouts hold exactly the same rows (same seed → same orders and line items); only the line
order differs. With --stats FILE the child-to-parent distances (in lines) are written there as JSON.
Values include non-ASCII text, JSON escapes (quotes, backslashes, tabs, newlines, U+2028, \\uXXXX),
nulls, guest orders and money strings.

With --csv-dir, writes orders.csv and order_lines.csv: exactly the rows `shopbulk load` stores (same
columns, in file order per table; PostgreSQL CSV, NULL = unquoted empty), for `\\copy … CSV`.
The CSV column lists are printed by --print-columns.
"""
import argparse
import time
import json
import random
import sys
import zlib

ORDER_COLUMNS = [
    "shop_id", "id", "gid", "name", "email", "phone", "customer_id", "created_at", "updated_at", "processed_at",
    "cancelled_at", "cancel_reason", "closed_at", "financial_status", "fulfillment_status", "currency_code", "tags",
    "test", "note", "total_price", "subtotal_price", "total_tax", "total_discounts", "total_shipping", "total_refunded",
    "current_total_price", "billing_address", "shipping_address", "extra",
]
LINE_COLUMNS = [
    "shop_id", "id", "gid", "order_id", "title", "name", "variant_title", "sku", "vendor", "quantity",
    "current_quantity", "unfulfilled_quantity", "variant_id", "product_id", "original_unit_price", "currency_code",
    "discounted_unit_price", "original_total", "discounted_total", "total_discount", "taxable", "requires_shipping",
    "is_gift_card", "custom_attributes", "extra",
]

FIRST = ["Anna", "Zoë", "Łukasz", "José", "Mette", "Ólafur", "Søren", "Chloé", "Ärni", "Ивана", "美咲", "Noah", "Liam",
         "O'Brien", "Jean-Luc", "Ngọc", "François", "Björk", "Şule", "Ana María"]
LAST = ["Müller", "García", "Kowalski", "Nguyễn", "Østergaard", "Smith", "D'Angelo", "van der Berg", "Schäfer",
        "Petrović", "山田", "Brown", "Dubois", "Jónsdóttir", "Ferreira", "Öztürk"]
CITIES = [("Zürich", "ZH", "CH", "Switzerland"), ("Berlin", "BE", "DE", "Germany"), ("København", "84", "DK", "Denmark"),
          ("São Paulo", "SP", "BR", "Brazil"), ("Kraków", "12", "PL", "Poland"), ("Montréal", "QC", "CA", "Canada"),
          ("東京", "13", "JP", "Japan"), ("New York", "NY", "US", "United States"), ("Malmö", "M", "SE", "Sweden")]
STREETS = ["Bahnhofstrasse", "Hauptstraße", "Rue de l'Église", "Østerbrogade", "Calle Mayor", "Main St", "Ulica Długa",
           "Avenida Paulista", "銀座通り"]
PRODUCTS = ["T-Shirt", "Hoodie \"Classic\"", "Café crème beans 1 kg", "Socks (3-pack)", "Mug — 350 ml", "Tote bag",
            "Gift card 🎁", "Poster 50×70", "Notebook A5", "Cap", "Scarf, wool", "Back\\slash sticker", "Ñandú plush"]
VENDORS = ["ACME", "Nordisk Design", "Café Olé", "Müller & Söhne", "Tokyo Goods 株式会社"]
VARIANTS = ["S / Black", "M / White", "L / Navy", "XL / Rot", "Default Title", None, "One size"]
TAGS = ["vip", "wholesale", "repeat", "b2b", "Geschenk", "fragile \"handle\"", "rush,priority", "été", "back\\order",
        "tab\tbed", "{braces}"]
NOTES = [None, None, None, None, "Please ring twice.", "Leave at the door\nthen call", "Tab\there", "He said \"hi\"",
         "C:\\Users\\ann\\order.txt", "Line sep\u2028inside", "Paragraph sep\u2029too", "Emoji 🚚📦 ok",
         "Mixed: ü\t\"x\"\\y\r\nz", "日本語のメモ", "  spaces  ", ""]
FIN = ["PAID", "PAID", "PAID", "PENDING", "REFUNDED", "PARTIALLY_REFUNDED", "AUTHORIZED", "VOIDED"]
FUL = ["FULFILLED", "FULFILLED", "UNFULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS"]
CURRENCIES = ["EUR", "CHF", "USD", "DKK", "JPY"]
CANCEL = ["CUSTOMER", "FRAUD", "INVENTORY", "DECLINED", "OTHER"]


def ts(base, r):
    s = base + r.randrange(0, 86400 * 400)
    # 2025-01-01T00:00:00Z is 1735689600
    t = time.gmtime(1735689600 + s)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % t[:6]


def money(r, lo=0, hi=500):
    return "%d.%02d" % (r.randrange(lo, hi), r.randrange(0, 100))


def address(r):
    city, prov, cc, country = r.choice(CITIES)
    first, last = r.choice(FIRST), r.choice(LAST)
    return {
        "firstName": first, "lastName": last, "company": r.choice([None, None, None, "Acme AG", "Café \"Zum Löwen\" GmbH"]),
        "address1": "%s %d" % (r.choice(STREETS), r.randrange(1, 300)), "address2": r.choice([None, None, "Apt. 4", "c/o Büro"]),
        "city": city, "province": r.choice([None, prov]), "provinceCode": prov, "zip": "%05d" % r.randrange(1000, 99999),
        "country": country, "countryCodeV2": cc, "phone": r.choice([None, "+41 44 %03d %02d %02d" % (r.randrange(1000), r.randrange(100), r.randrange(100))]),
    }


def shop_money(amount, currency=None):
    if amount is None:
        return None
    m = {"amount": amount}
    if currency is not None:
        m["currencyCode"] = currency
    return {"shopMoney": m}


def numeric_id(gid):
    return None if gid is None else int(gid.rsplit("/", 1)[1])


def array_literal(items):
    out = []
    for s in items:
        out.append('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(out) + "}"


def csv_field(v):
    if v is None:
        return ""
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, int):
        return str(v)
    return '"' + v.replace('"', '""') + '"'


def jtext(v):
    return None if v is None else json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def make_order(r, oid, number):
    guest = r.random() < 0.15
    first, last = r.choice(FIRST), r.choice(LAST)
    email = None if (guest and r.random() < 0.5) else "%s.%s+%d@example.com" % (first.lower().replace(" ", ""), last.lower().replace(" ", ""), number)
    created = ts(0, r)
    cancelled = r.random() < 0.05
    total = money(r, 1, 2000)
    digital = r.random() < 0.2
    bill = None if (guest and r.random() < 0.3) else address(r)
    return {
        "__typename": "Order",
        "id": "gid://shopify/Order/%d" % oid,
        "name": "#%d" % number,
        "email": email,
        "phone": r.choice([None, None, "+4179%07d" % r.randrange(10**7)]),
        "customer": None if guest else {"id": "gid://shopify/Customer/%d" % (7_000_000_000 + r.randrange(200_000))},
        "createdAt": created,
        "updatedAt": ts(86400 * 30, r),
        "processedAt": created,
        "cancelledAt": ts(86400 * 10, r) if cancelled else None,
        "cancelReason": r.choice(CANCEL) if cancelled else None,
        "closedAt": ts(86400 * 5, r) if r.random() < 0.6 else None,
        "displayFinancialStatus": r.choice(FIN),
        "displayFulfillmentStatus": r.choice(FUL),
        "currencyCode": r.choice(CURRENCIES),
        "tags": r.sample(TAGS, r.randrange(0, 4)),
        "test": r.random() < 0.01,
        "note": r.choice(NOTES),
        "totalPriceSet": shop_money(total),
        "subtotalPriceSet": shop_money(money(r, 1, 2000)),
        "totalTaxSet": shop_money(money(r, 0, 200)),
        "totalDiscountsSet": shop_money(r.choice(["0.0", money(r, 0, 50)])),
        "totalShippingPriceSet": shop_money(r.choice(["0.0", "4.90", "9.90", money(r, 0, 30)])),
        "totalRefundedSet": shop_money("0.0" if r.random() < 0.9 else money(r, 0, 300)),
        "currentTotalPriceSet": shop_money(total),
        "billingAddress": bill,
        "shippingAddress": None if digital else (bill if bill and r.random() < 0.7 else address(r)),
    }


def order_row(shop, o):
    def amt(k):
        v = o[k]
        return None if v is None else v["shopMoney"]["amount"]
    return [
        shop, numeric_id(o["id"]), o["id"], o["name"], o["email"], o["phone"],
        numeric_id(o["customer"]["id"]) if o["customer"] else None,
        o["createdAt"], o["updatedAt"], o["processedAt"], o["cancelledAt"], o["cancelReason"], o["closedAt"],
        o["displayFinancialStatus"], o["displayFulfillmentStatus"], o["currencyCode"], array_literal(o["tags"]),
        o["test"], o["note"], amt("totalPriceSet"), amt("subtotalPriceSet"), amt("totalTaxSet"), amt("totalDiscountsSet"),
        amt("totalShippingPriceSet"), amt("totalRefundedSet"), amt("currentTotalPriceSet"),
        jtext(o["billingAddress"]), jtext(o["shippingAddress"]), "{}",
    ]


def make_line(r, lid, oid, currency):
    title = r.choice(PRODUCTS)
    variant = r.choice(VARIANTS)
    custom = r.random() < 0.1
    q = r.randrange(1, 6)
    unit = money(r, 1, 300)
    disc = unit if r.random() < 0.8 else money(r, 1, 300)
    return {
        "__typename": "LineItem",
        "id": "gid://shopify/LineItem/%d" % lid,
        "title": title,
        "name": title if variant is None else "%s - %s" % (title, variant),
        "variantTitle": variant,
        "sku": None if custom else r.choice(["", "SKU-%06d" % r.randrange(10**6), "ÄÖÜ-%d" % r.randrange(1000)]),
        "vendor": None if custom else r.choice(VENDORS),
        "quantity": q,
        "currentQuantity": q if r.random() < 0.95 else 0,
        "unfulfilledQuantity": r.choice([0, 0, 0, q]),
        "variant": None if custom else {"id": "gid://shopify/ProductVariant/%d" % (40_000_000_000 + r.randrange(10**6))},
        "product": None if custom else {"id": "gid://shopify/Product/%d" % (8_000_000_000 + r.randrange(10**5))},
        "originalUnitPriceSet": shop_money(unit, currency),
        "discountedUnitPriceSet": shop_money(disc),
        "originalTotalSet": shop_money("%.2f" % (float(unit) * q)),
        "discountedTotalSet": shop_money("%.2f" % (float(disc) * q)),
        "totalDiscountSet": shop_money(r.choice(["0.0", "0.00", money(r, 0, 20)])),
        "taxable": r.random() < 0.9,
        "requiresShipping": r.random() < 0.85,
        "isGiftCard": title.startswith("Gift card"),
        "customAttributes": r.choice([[], [], [{"key": "gift", "value": "yes"}], [{"key": "Engraving", "value": "für Anna\n♥"}, {"key": "date", "value": None}]]),
        "__parentId": "gid://shopify/Order/%d" % oid,
    }


def line_row(shop, l):
    def amt(k):
        v = l[k]
        return None if v is None else v["shopMoney"]["amount"]
    return [
        shop, numeric_id(l["id"]), l["id"], numeric_id(l["__parentId"]), l["title"], l["name"], l["variantTitle"], l["sku"],
        l["vendor"], l["quantity"], l["currentQuantity"], l["unfulfilledQuantity"],
        numeric_id(l["variant"]["id"]) if l["variant"] else None, numeric_id(l["product"]["id"]) if l["product"] else None,
        amt("originalUnitPriceSet"), l["originalUnitPriceSet"]["shopMoney"]["currencyCode"], amt("discountedUnitPriceSet"),
        amt("originalTotalSet"), amt("discountedTotalSet"), amt("totalDiscountSet"), l["taxable"], l["requiresShipping"],
        l["isGiftCard"], jtext(l["customAttributes"]), "{}",
    ]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--out", required=False)
    p.add_argument("--csv-dir")
    p.add_argument("--shop-id", type=int, default=1)
    p.add_argument("--seed", type=int, default=20260101)
    p.add_argument("--print-columns", choices=["orders", "order_lines"])
    p.add_argument("--grouped", action="store_true", help="each order directly followed by its line items")
    p.add_argument("--stats", help="write child-to-parent line distances as JSON to this file")
    a = p.parse_args()
    if a.print_columns:
        print(",".join(ORDER_COLUMNS if a.print_columns == "orders" else LINE_COLUMNS))
        return
    r = random.Random(a.seed)
    out = open(a.out, "w", encoding="utf-8", newline="\n", buffering=1 << 20)
    oc = lc = None
    if a.csv_dir:
        oc = open(a.csv_dir + "/orders.csv", "w", encoding="utf-8", newline="", buffering=1 << 20)
        lc = open(a.csv_dir + "/order_lines.csv", "w", encoding="utf-8", newline="", buffering=1 << 20)
    compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    ascii_only = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    delayed = []  # (release at order index, line dict) — children far from their parent
    lines_total = 0
    next_line = 13_000_000_000
    # The encoding choice (10% ASCII-only with \\uXXXX escapes) depends on the object's id only, so that the
    # grouped and the ungrouped file hold the same lines.
    line_no = [0]
    order_line = {}  # order gid -> its line number in the file
    child_line = {}  # line item gid -> (its line number, its parent's gid)

    def emit(obj, is_line):
        enc = ascii_only if zlib.crc32(obj["id"].encode()) % 10 == 0 else compact
        out.write(enc(obj))
        out.write("\n")
        line_no[0] += 1
        if a.stats:
            if is_line:
                child_line[obj["id"]] = (line_no[0], obj["__parentId"])
            else:
                order_line[obj["id"]] = line_no[0]
        if oc is not None:
            row = line_row(a.shop_id, obj) if is_line else order_row(a.shop_id, obj)
            (lc if is_line else oc).write(",".join(csv_field(v) for v in row) + "\n")

    for i in range(a.orders):
        oid = 5_000_000_000 + i * 7 + r.randrange(7)
        order = make_order(r, oid, 1001 + i)
        items = []
        for _ in range(r.choices((1, 2, 3, 4), (24, 25, 24, 27))[0]):  # mean 2.54
            next_line += 1 + r.randrange(3)
            items.append(make_line(r, next_line, oid, order["currencyCode"]))
        lines_total += len(items)
        where = r.random()
        release = i + r.randrange(1, 2000)  # drawn always, so that --grouped does not change the rows
        if a.grouped:
            where = 1.0
        if where < 0.25:  # children before their parent
            for it in items:
                emit(it, True)
            emit(order, False)
        elif where < 0.35:  # children far after their parent
            emit(order, False)
            for it in items:
                delayed.append((release, it))
        else:
            emit(order, False)
            for it in items:
                emit(it, True)
        if delayed and (i % 100 == 0):
            keep = []
            for rel, it in delayed:
                if rel <= i:
                    emit(it, True)
                else:
                    keep.append((rel, it))
            delayed = keep
    for _, it in delayed:
        emit(it, True)
    out.close()
    if oc is not None:
        oc.close()
        lc.close()
    print("%d orders, %d line items" % (a.orders, lines_total), file=sys.stderr)
    if a.stats:
        d = sorted(ln - order_line[parent] for ln, parent in child_line.values())
        after = [x for x in d if x > 0]
        stats = {
            "lines": line_no[0], "children": len(d),
            "before_parent": sum(1 for x in d if x < 0), "max_before": -d[0] if d and d[0] < 0 else 0,
            "after_parent": len(after), "max_after": after[-1] if after else 0,
            "median_after": after[len(after) // 2] if after else 0,
            "after_over_1000": sum(1 for x in after if x > 1000),
            "after_over_5000": sum(1 for x in after if x > 5000),
        }
        with open(a.stats, "w") as f:
            json.dump(stats, f)


if __name__ == "__main__":
    main()
