-- The mirror of each shop's customers, orders and order line items. Every table is keyed by
-- (shop_id, id): id is the numeric part of the Shopify GID, and shop_id comes first so that the
-- schema can be distributed by shop (Citus) when one server is not enough.
-- Money is exact (numeric), dates are timestamptz, tags text[], addresses jsonb. Selected fields
-- that have no column of their own are kept in `extra`, so nothing a query returned is lost.

CREATE TABLE customers (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id                  bigint NOT NULL,
    gid                 text NOT NULL,
    first_name          text,
    last_name           text,
    display_name        text,
    email               text,
    phone               text,
    state               text,
    verified_email      boolean,
    tax_exempt          boolean,
    locale              text,
    note                text,
    tags                text[],
    amount_spent        numeric,
    amount_spent_currency text,
    number_of_orders    bigint,
    last_order_id       bigint,
    default_address     jsonb,
    created_at          timestamptz,
    updated_at          timestamptz,
    extra               jsonb NOT NULL DEFAULT '{}',
    imported_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX customers_email_idx ON customers (shop_id, lower(email));
CREATE INDEX customers_updated_idx ON customers (shop_id, updated_at, id);

CREATE TABLE orders (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id                  bigint NOT NULL,
    gid                 text NOT NULL,
    name                text,
    email               text,
    phone               text,
    customer_id         bigint,
    created_at          timestamptz,
    updated_at          timestamptz,
    processed_at        timestamptz,
    cancelled_at        timestamptz,
    cancel_reason       text,
    closed_at           timestamptz,
    financial_status    text,
    fulfillment_status  text,
    currency_code       text,
    tags                text[],
    test                boolean,
    note                text,
    total_price         numeric,
    subtotal_price      numeric,
    total_tax           numeric,
    total_discounts     numeric,
    total_shipping      numeric,
    total_refunded      numeric,
    current_total_price numeric,
    billing_address     jsonb,
    shipping_address    jsonb,
    extra               jsonb NOT NULL DEFAULT '{}',
    imported_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX orders_customer_idx ON orders (shop_id, customer_id, created_at DESC);
CREATE INDEX orders_email_idx ON orders (shop_id, lower(email));
CREATE INDEX orders_updated_idx ON orders (shop_id, updated_at, id);

CREATE TABLE order_lines (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id                  bigint NOT NULL,
    gid                 text NOT NULL,
    order_id            bigint NOT NULL,
    title               text,
    name                text,
    variant_title       text,
    sku                 text,
    vendor              text,
    quantity            integer,
    current_quantity    integer,
    unfulfilled_quantity integer,
    variant_id          bigint,
    product_id          bigint,
    original_unit_price numeric,
    discounted_unit_price numeric,
    original_total      numeric,
    discounted_total    numeric,
    total_discount      numeric,
    currency_code       text,
    taxable             boolean,
    requires_shipping   boolean,
    is_gift_card        boolean,
    custom_attributes   jsonb,
    extra               jsonb NOT NULL DEFAULT '{}',
    imported_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX order_lines_order_idx ON order_lines (shop_id, order_id);

-- Lines of any type no table maps (and the output of saved queries loaded into the default table):
-- their raw JSON, so that nothing a bulk operation returned is dropped.
CREATE TABLE bulk_records (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    gid                 text NOT NULL,
    type                text NOT NULL,
    parent_gid          text,
    data                jsonb NOT NULL,
    run_id              bigint,
    imported_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, gid)
);
CREATE INDEX bulk_records_parent_idx ON bulk_records (shop_id, parent_gid);
