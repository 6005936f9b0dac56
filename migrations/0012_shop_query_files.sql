-- A shop's own query files (`shopbulk shop edit halo --query customers=/etc/shopbulk/halo/customers.graphql`),
-- instead of the bundled queries/customers.graphql or queries/orders.graphql for that shop's imports.
CREATE TABLE shop_query_files (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    resource    text NOT NULL CHECK (resource IN ('customers', 'orders')),
    -- An absolute path, checked (bulk rules, mapping, tables and columns, API version) when set.
    path        text NOT NULL CHECK (path LIKE '/%'),
    sha256      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, resource)
);
