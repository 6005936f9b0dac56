-- What a service desk asks about an order: did it ship, where is the parcel, was anything refunded.
-- Order.fulfillments and Order.refunds are plain lists in the Admin API (not connections), so they
-- arrive inline on the order's own line; they are kept as Shopify returned them, as jsonb arrays read
-- together with the order row (no join, no second lookup). Adding nullable columns without a default
-- only changes the catalog, so this is instant on a table of millions of orders. Orders imported
-- before this migration have NULL here until their next import (a full import fills every order).
ALTER TABLE orders
    ADD COLUMN fulfillments jsonb,
    ADD COLUMN refunds jsonb;
