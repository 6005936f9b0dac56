-- The Shopify Admin API schema (SDL) per API version, as `shopbulk schema pull SHOP` fetched it by
-- introspection. Query files are validated against it before anything is submitted.
CREATE TABLE admin_schemas (
    api_version   text PRIMARY KEY CHECK (api_version ~ '^[0-9]{4}-[0-9]{2}$' OR api_version = 'unstable'),
    sdl           text NOT NULL,
    sha256        text NOT NULL,
    type_count    integer NOT NULL,
    -- The shop it was pulled through (schemas are per version, not per shop).
    pulled_from   text,
    pulled_at     timestamptz NOT NULL DEFAULT now()
);
