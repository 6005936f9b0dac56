-- Shop connections. Secrets are never stored: only references to where they live
-- (an environment variable name or a file path).
CREATE TABLE shops (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
    store_domain        text NOT NULL,
    auth_method         text NOT NULL CHECK (auth_method IN ('token', 'client-credentials')),
    -- 'env:VAR' or 'file:/path' for the Admin API access token (auth_method = 'token').
    token_ref           text,
    -- The Dev Dashboard app's client ID (not a secret) and a reference to its secret.
    client_id           text,
    client_secret_ref   text,
    enabled             boolean NOT NULL DEFAULT true,
    import_line_items   boolean NOT NULL DEFAULT true,
    customers_as        text NOT NULL DEFAULT 'contact' CHECK (customers_as IN ('contact', 'customer')),
    api_version         text NOT NULL DEFAULT '2026-01' CHECK (api_version ~ '^[0-9]{4}-[0-9]{2}$' OR api_version = 'unstable'),
    -- Optional override of https://{store}/admin/api, for the simulator and tests.
    api_base            text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shops_token_auth CHECK (auth_method <> 'token' OR token_ref IS NOT NULL),
    CONSTRAINT shops_client_credentials_auth
        CHECK (auth_method <> 'client-credentials' OR (client_id IS NOT NULL AND client_secret_ref IS NOT NULL)),
    CONSTRAINT shops_secret_refs CHECK (
        (token_ref IS NULL OR token_ref ~ '^(env|file):.+')
        AND (client_secret_ref IS NULL OR client_secret_ref ~ '^(env|file):.+'))
);

CREATE UNIQUE INDEX shops_store_domain_idx ON shops (lower(store_domain), coalesce(api_base, ''));
