-- API keys for `shopbulk serve`: created by `shopbulk apikey create`, shown once, stored only as the
-- SHA-256 of the key (256 random bits, so a plain hash is enough). A key with `shops` NULL may read
-- every shop; otherwise only the shops named. Revoked keys stay listed with their revocation time.
CREATE TABLE api_keys (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    key_hash    bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    shops       text[],
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- `GET /v1/shops/{shop}/orders/#1001` finds an order by its name without a scan.
CREATE INDEX orders_name_idx ON orders (shop_id, name);
