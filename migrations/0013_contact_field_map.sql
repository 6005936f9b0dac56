-- Per shop: which customer fields make a service-desk contact's (or account's) name, e-mail, phone,
-- company and address, plus any number of custom fields (`custom.NAME`) shown with it. A source is
-- a column of `customers`, or a path into one (`extra.vip.value`, `default_address.company`).
-- Without a row, a field is what it was before (0004).
CREATE TABLE contact_field_map (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    field       text NOT NULL CHECK (field ~ '^(name|email|phone|company|address|custom\.[a-z][a-z0-9_]*)$'),
    source      text NOT NULL CHECK (source ~ '^[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$'),
    PRIMARY KEY (shop_id, field)
);

DROP VIEW contacts;
DROP VIEW customer_accounts;

-- m: the shop's core-field sources; x: its custom fields' values for the row.
CREATE VIEW contacts AS
SELECT c.shop_id, s.name AS shop_name, c.id AS contact_id, c.gid,
       c.first_name, c.last_name,
       coalesce(nullif(CASE WHEN m.map ? 'name' THEN to_jsonb(c) #>> string_to_array(m.map->>'name', '.') END, ''),
                nullif(c.display_name, ''), nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) AS full_name,
       CASE WHEN m.map ? 'email' THEN to_jsonb(c) #>> string_to_array(m.map->>'email', '.') ELSE c.email END AS email,
       CASE WHEN m.map ? 'phone' THEN to_jsonb(c) #>> string_to_array(m.map->>'phone', '.') ELSE c.phone END AS phone,
       CASE WHEN m.map ? 'address' THEN to_jsonb(c) #> string_to_array(m.map->>'address', '.') ELSE c.default_address END AS address,
       c.tags, c.note, c.state,
       c.number_of_orders, c.amount_spent, c.amount_spent_currency,
       c.created_at, c.updated_at,
       CASE WHEN m.map ? 'company' THEN to_jsonb(c) #>> string_to_array(m.map->>'company', '.')
            ELSE c.default_address->>'company' END AS company,
       coalesce(x.custom, '{}'::jsonb) AS custom_fields,
       -- The customer's own e-mail (indexed), for lookups when the shop maps no other e-mail source.
       c.email AS customer_email,
       m.map ? 'email' AS email_is_mapped
FROM customers c
JOIN shops s ON s.id = c.shop_id
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(f.field, f.source) AS map FROM contact_field_map f
    WHERE f.shop_id = c.shop_id AND f.field NOT LIKE 'custom.%') m ON true
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(substr(f.field, 8), to_jsonb(c) #>> string_to_array(f.source, '.')) AS custom FROM contact_field_map f
    WHERE f.shop_id = c.shop_id AND f.field LIKE 'custom.%') x ON true
WHERE s.customers_as = 'contact' AND c.deleted_at IS NULL;

CREATE VIEW customer_accounts AS
SELECT c.shop_id, s.name AS shop_name, c.id AS account_id, c.gid,
       coalesce(nullif(CASE WHEN m.map ? 'name' THEN to_jsonb(c) #>> string_to_array(m.map->>'name', '.') END, ''),
                nullif(CASE WHEN m.map ? 'company' THEN to_jsonb(c) #>> string_to_array(m.map->>'company', '.')
                            ELSE c.default_address->>'company' END, ''),
                nullif(c.display_name, ''), nullif(trim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) AS account_name,
       CASE WHEN m.map ? 'email' THEN to_jsonb(c) #>> string_to_array(m.map->>'email', '.') ELSE c.email END AS main_email,
       CASE WHEN m.map ? 'phone' THEN to_jsonb(c) #>> string_to_array(m.map->>'phone', '.') ELSE c.phone END AS main_phone,
       CASE WHEN m.map ? 'address' THEN to_jsonb(c) #> string_to_array(m.map->>'address', '.') ELSE c.default_address END AS address,
       c.tags, c.note,
       c.number_of_orders, c.amount_spent, c.amount_spent_currency,
       c.created_at, c.updated_at,
       CASE WHEN m.map ? 'company' THEN to_jsonb(c) #>> string_to_array(m.map->>'company', '.')
            ELSE c.default_address->>'company' END AS company,
       coalesce(x.custom, '{}'::jsonb) AS custom_fields,
       c.email AS customer_email,
       m.map ? 'email' AS email_is_mapped
FROM customers c
JOIN shops s ON s.id = c.shop_id
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(f.field, f.source) AS map FROM contact_field_map f
    WHERE f.shop_id = c.shop_id AND f.field NOT LIKE 'custom.%') m ON true
LEFT JOIN LATERAL (
    SELECT jsonb_object_agg(substr(f.field, 8), to_jsonb(c) #>> string_to_array(f.source, '.')) AS custom FROM contact_field_map f
    WHERE f.shop_id = c.shop_id AND f.field LIKE 'custom.%') x ON true
WHERE s.customers_as = 'customer' AND c.deleted_at IS NULL;
