-- How a service desk sees customers: as people (contacts) or as accounts (customer_accounts),
-- chosen per shop by shops.customers_as. Views over the mirror tables, so switching needs no
-- re-import. Deleted rows (deleted_at set) are left out.

CREATE VIEW contacts AS
SELECT c.shop_id, s.name AS shop_name, c.id AS contact_id, c.gid,
       c.first_name, c.last_name,
       coalesce(nullif(c.display_name, ''), nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) AS full_name,
       c.email, c.phone, c.default_address AS address, c.tags, c.note, c.state,
       c.number_of_orders, c.amount_spent, c.amount_spent_currency,
       c.created_at, c.updated_at
FROM customers c
JOIN shops s ON s.id = c.shop_id
WHERE s.customers_as = 'contact' AND c.deleted_at IS NULL;

CREATE VIEW customer_accounts AS
SELECT c.shop_id, s.name AS shop_name, c.id AS account_id, c.gid,
       coalesce(nullif(c.default_address->>'company', ''), nullif(c.display_name, ''),
                nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) AS account_name,
       c.email AS main_email, c.phone AS main_phone, c.default_address AS address, c.tags, c.note,
       c.number_of_orders, c.amount_spent, c.amount_spent_currency,
       c.created_at, c.updated_at
FROM customers c
JOIN shops s ON s.id = c.shop_id
WHERE s.customers_as = 'customer' AND c.deleted_at IS NULL;

-- Orders with their customer, for "what did this person buy" lookups.
CREATE VIEW order_history AS
SELECT o.shop_id, o.id AS order_id, o.name AS order_name, o.customer_id,
       coalesce(o.email, c.email) AS email, o.created_at, o.processed_at, o.cancelled_at,
       o.financial_status, o.fulfillment_status, o.total_price, o.currency_code, o.tags
FROM orders o
LEFT JOIN customers c ON c.shop_id = o.shop_id AND c.id = o.customer_id
WHERE o.deleted_at IS NULL;
