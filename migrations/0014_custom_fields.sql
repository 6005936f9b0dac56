-- Custom fields a shop's own query files commonly map (docs/query-files.md, "A worked example"):
-- a customer's loyalty tier (a metafield), and the discounts applied to each order.

ALTER TABLE customers ADD COLUMN loyalty_tier text;

-- Discount applications have no id of their own: Shopify writes their bulk lines with __parentId
-- only. Rows are keyed by their order and their position among the order's applications in the
-- result file; a re-load replaces an order's applications as a set.
CREATE TABLE order_discount_applications (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_id            bigint NOT NULL,
    position            integer NOT NULL,
    kind                text,
    allocation_method   text,
    target_selection    text,
    target_type         text,
    code                text,
    title               text,
    value               jsonb,
    extra               jsonb NOT NULL DEFAULT '{}',
    imported_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id, position),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
