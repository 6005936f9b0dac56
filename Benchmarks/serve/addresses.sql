-- The addresses scripts/bench-serve looks up, the same list for wrk and for pgbench: bench_addresses
-- (a helper table of the benchmark, not of shopbulk's schema) numbers them 1..existing (95% customers'
-- e-mails as stored, 5% guest-checkout e-mails) and existing+1..existing+missing (addresses of the
-- same shape that nobody has). For pgbench, which cannot build strings, each row also carries what the
-- server passes on from one statement of a lookup to the next: the matched customers' ids and the ids of
-- the latest orders (as the array literals the server binds), computed here with the lookup's own
-- conditions.
-- psql variables: shop_id, customers (N), existing, missing, order_limit.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\ir functions.sql

DROP TABLE IF EXISTS bench_addresses;
CREATE TABLE bench_addresses (n integer PRIMARY KEY, email text NOT NULL, ids text NOT NULL, order_ids text NOT NULL);
SELECT setseed(0.5) \gset

CREATE TEMP TABLE picked AS
SELECT email FROM (SELECT c.email FROM (SELECT DISTINCT 1 + floor(random() * :customers)::bigint AS i
                                        FROM generate_series(1, (:existing * 0.95 * 1.2)::int)) r
                   JOIN customers c ON c.shop_id = :shop_id AND c.id = 6000000000000 + r.i
                   LIMIT (:existing * 0.95)::int) a
UNION ALL
SELECT email FROM (SELECT DISTINCT o.email FROM orders o
                   WHERE o.shop_id = :shop_id AND o.customer_id IS NULL AND o.id % 37 = 0
                   LIMIT (:existing - (:existing * 0.95)::int)) g;
-- Numbered 1..existing in a random order.
INSERT INTO bench_addresses (n, email, ids, order_ids) SELECT row_number() OVER (ORDER BY random()), email, '{}', '{}' FROM picked;
SELECT count(*) AS existing_count FROM bench_addresses \gset
INSERT INTO bench_addresses (n, email, ids, order_ids)
SELECT :existing_count + k, pg_temp.email(:customers::bigint + 7 * k), '{}', '{}' FROM generate_series(1, :missing) k;

-- What the lookup finds for each (contacts: not deleted customers by lower(email); orders: theirs, or
-- carrying the address when their customer is not in the mirror; newest first, order_limit of them).
UPDATE bench_addresses a SET ids = p.ids
FROM (SELECT b.n, '{' || string_agg(c.id::text, ',' ORDER BY c.updated_at DESC NULLS LAST, c.id) || '}' AS ids
      FROM bench_addresses b JOIN customers c ON c.shop_id = :shop_id AND lower(c.email) = lower(b.email) AND c.deleted_at IS NULL
      GROUP BY b.n) p
WHERE a.n = p.n;
UPDATE bench_addresses a SET order_ids = x.order_ids
FROM (SELECT b.n, '{' || string_agg(o.id::text, ',' ORDER BY o.created_at DESC NULLS LAST, o.id DESC) || '}' AS order_ids
      FROM bench_addresses b
      CROSS JOIN LATERAL (
          SELECT o.id, o.created_at FROM orders o
          WHERE o.shop_id = :shop_id AND o.deleted_at IS NULL
            AND (o.customer_id = ANY(b.ids::bigint[])
                 OR (lower(o.email) = lower(b.email)
                     AND NOT EXISTS (SELECT 1 FROM customers c
                                     WHERE c.shop_id = o.shop_id AND c.id = o.customer_id AND c.deleted_at IS NULL)))
          ORDER BY o.created_at DESC NULLS LAST, o.id DESC LIMIT :order_limit) o
      GROUP BY b.n) x
WHERE a.n = x.n;

-- The checks: every existing address finds someone or some order, no missing one does.
SELECT count(*) FILTER (WHERE n <= :existing_count AND ids = '{}' AND order_ids = '{}') > 0 AS existing_unmatched,
       count(*) FILTER (WHERE n > :existing_count AND (ids <> '{}' OR order_ids <> '{}')) > 0 AS missing_matched
FROM bench_addresses \gset
\if :existing_unmatched
\echo 'addresses.sql: an existing address matches nothing'
SELECT 1/0;
\endif
\if :missing_matched
\echo 'addresses.sql: a missing address matches someone'
SELECT 1/0;
\endif
