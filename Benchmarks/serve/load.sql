-- scripts/bench-serve's simulated shop, generated with SQL (generate_series) straight into the mirror
-- tables that `shopbulk migrate` created: loading 5,000,000 orders through the importer would take longer
-- than the benchmark itself. The rows have the shapes the importer writes (gids, money as numeric,
-- addresses and fulfillments/refunds as the jsonb Shopify returns), but they did not come through it.
--
-- psql variables: shop_id, customers (N), orders (M). Deterministic (setseed).
--
-- Customers: e-mails like anna.schmidt17@gmail.com, unique by construction (the name pair and the number
-- together encode the customer's index) and checked unique at the end; ~3% stored with capitals.
-- Orders: ~8% guest checkouts (no customer; addresses of their own), the rest spread over customers:
-- 2% of orders over 100 B2B-like customers (~1,000 each), 25% over 10,000 regulars (~115 each), the
-- rest uniform (a few each; some customers have none). A customer's orders are scattered over the
-- table (random customer per order), ids and created_at grow together over ten years.
-- Line items: 1-4 per order (2.5 on average), written in a scrambled order of their orders
-- (consecutive lines belong to orders ~7,919 apart; an order's lines are ~M lines apart).
--
-- Each table's secondary indexes are dropped before its rows and rebuilt after them in the same
-- transaction (same definitions, from pg_indexes), and the loading session skips the foreign-key
-- triggers (session_replication_role = replica; the rows are consistent by construction). Nothing is
-- ANALYZEd or VACUUMed here.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET session_replication_role = replica;
SET maintenance_work_mem = '256MB';

\ir functions.sql

-- The secondary indexes of the three tables: dropped before a table's rows and rebuilt (same
-- definitions) after them, in the same transaction, so that autovacuum, which sees the rows only when
-- they commit, analyses each table with its indexes (and their expression statistics) in place.
CREATE TEMP TABLE saved_indexes AS
SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename IN ('customers', 'orders', 'order_lines')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname);
CREATE FUNCTION pg_temp.drop_indexes(t text) RETURNS void LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN
    FOR r IN SELECT indexname FROM saved_indexes WHERE tablename = t LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;
CREATE FUNCTION pg_temp.rebuild_indexes(t text) RETURNS void LANGUAGE plpgsql AS $$ DECLARE r record; BEGIN
    FOR r IN SELECT indexdef FROM saved_indexes WHERE tablename = t LOOP EXECUTE r.indexdef; END LOOP;
END $$;

SELECT setseed(0.14) \gset

\echo '   customers'
BEGIN;
SELECT pg_temp.drop_indexes('customers') \g /dev/null
INSERT INTO customers (shop_id, id, gid, first_name, last_name, display_name, email, phone, state, verified_email, tax_exempt,
                       locale, note, tags, amount_spent, amount_spent_currency, number_of_orders, default_address,
                       created_at, updated_at)
SELECT :shop_id, 6000000000000 + i, 'gid://shopify/Customer/' || (6000000000000 + i),
       f, l, f || ' ' || l,
       CASE WHEN pg_temp.h(i, 3) % 33 = 0 THEN initcap(pg_temp.email(i)) ELSE pg_temp.email(i) END,
       CASE WHEN pg_temp.h(i, 4) % 3 = 0 THEN NULL ELSE '+1' || (2000000000 + pg_temp.h(i, 5) % 7999999999)::text END,
       CASE WHEN pg_temp.h(i, 6) % 10 < 7 THEN 'ENABLED' WHEN pg_temp.h(i, 6) % 10 < 9 THEN 'DISABLED' ELSE 'INVITED' END,
       pg_temp.h(i, 7) % 10 > 0, false, pg_temp.pick(ARRAY['en','en','de','fr','es','it','nl'], pg_temp.h(i, 8)),
       CASE WHEN pg_temp.h(i, 9) % 20 = 0 THEN 'Prefers e-mail; call only after 5 pm' END,
       CASE WHEN pg_temp.h(i, 10) % 5 = 0 THEN ARRAY['vip'] WHEN pg_temp.h(i, 10) % 5 = 1 THEN ARRAY['newsletter', 'wholesale'] ELSE '{}'::text[] END,
       round((pg_temp.h(i, 11) % 500000) / 100.0, 2), 'USD', pg_temp.h(i, 12) % 12,
       jsonb_build_object('address1', (1 + pg_temp.h(i, 13) % 400)::text || ' ' || pg_temp.pick(ARRAY['Main St','Oak Ave','Hauptstr.','Rue de Rivoli','High St','Elm Rd'], pg_temp.h(i, 14)),
                          'address2', NULL, 'city', pg_temp.pick(ARRAY['Berlin','Paris','Austin','Leeds','Lyon','Munich','Denver','Turin'], pg_temp.h(i, 15)),
                          'zip', lpad((pg_temp.h(i, 16) % 99999)::text, 5, '0'), 'province', NULL,
                          'country', pg_temp.pick(ARRAY['Germany','France','United States','United Kingdom','Italy'], pg_temp.h(i, 17)),
                          'countryCodeV2', pg_temp.pick(ARRAY['DE','FR','US','GB','IT'], pg_temp.h(i, 17)),
                          'company', CASE WHEN pg_temp.h(i, 18) % 8 = 0 THEN l || ' GmbH' END),
       ts, ts + make_interval(days => (pg_temp.h(i, 19) % 900)::int)
FROM (SELECT i, pg_temp.pick(pg_temp.first(), i % 60) AS f, pg_temp.pick(pg_temp.last(), (i / 60) % 60) AS l,
             timestamptz '2016-01-01 00:00:00+00' + make_interval(secs => (i::float8 / :customers) * 315360000) AS ts
      FROM generate_series(1, :customers::bigint) i) c;

SELECT pg_temp.rebuild_indexes('customers') \g /dev/null
COMMIT;

\echo '   orders'
BEGIN;
SELECT pg_temp.drop_indexes('orders') \g /dev/null
INSERT INTO orders (shop_id, id, gid, name, email, phone, customer_id, created_at, updated_at, processed_at, cancelled_at,
                    cancel_reason, closed_at, financial_status, fulfillment_status, currency_code, tags, test, note,
                    total_price, subtotal_price, total_tax, total_discounts, total_shipping, total_refunded, current_total_price,
                    billing_address, shipping_address, fulfillments, refunds)
SELECT :shop_id, 5000000000000 + k, 'gid://shopify/Order/' || (5000000000000 + k), '#' || (1000 + k),
       CASE WHEN ci IS NULL THEN pg_temp.email(2 * :customers::bigint + 1 + pg_temp.h(k, 21) % 300000) ELSE pg_temp.email(ci) END,
       NULL, CASE WHEN ci IS NOT NULL THEN 6000000000000 + ci END,
       ts, ts + interval '3 days', ts, CASE WHEN fin = 'VOIDED' THEN ts + interval '2 hours' END,
       CASE WHEN fin = 'VOIDED' THEN 'CUSTOMER' END, CASE WHEN ful = 'FULFILLED' THEN ts + interval '10 days' END,
       fin, ful, 'USD', CASE WHEN pg_temp.h(k, 22) % 7 = 0 THEN ARRAY['gift'] ELSE '{}'::text[] END, false, NULL,
       sub + 4.95, sub, round(sub * 0.08, 2), 0, 4.95,
       CASE WHEN fin = 'REFUNDED' THEN sub + 4.95 WHEN fin = 'PARTIALLY_REFUNDED' THEN round(sub / 3, 2) ELSE 0 END,
       CASE WHEN fin = 'REFUNDED' THEN 0 WHEN fin = 'PARTIALLY_REFUNDED' THEN sub + 4.95 - round(sub / 3, 2) ELSE sub + 4.95 END,
       addr, addr,
       CASE WHEN ful = 'FULFILLED' OR ful = 'PARTIALLY_FULFILLED' THEN jsonb_build_array(jsonb_build_object(
           'id', 'gid://shopify/Fulfillment/' || (3000000000000 + k), 'status', 'SUCCESS',
           'displayStatus', CASE WHEN k > :orders - :orders / 200 THEN 'IN_TRANSIT' ELSE 'DELIVERED' END,
           'createdAt', to_char((ts + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'inTransitAt', to_char((ts + interval '2 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'deliveredAt', CASE WHEN k <= :orders - :orders / 200 THEN to_char((ts + interval '5 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
           'estimatedDeliveryAt', to_char((ts + interval '5 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'trackingInfo', jsonb_build_array(CASE pg_temp.h(k, 23) % 3
               WHEN 0 THEN jsonb_build_object('company', 'UPS', 'number', '1Z' || upper(lpad(to_hex(pg_temp.h(k, 24)), 8, '0')) || lpad((k % 100000000)::text, 8, '0'),
                                              'url', 'https://www.ups.com/track?tracknum=1Z' || upper(lpad(to_hex(pg_temp.h(k, 24)), 8, '0')) || lpad((k % 100000000)::text, 8, '0'))
               WHEN 1 THEN jsonb_build_object('company', 'DHL Express', 'number', lpad((pg_temp.h(k, 25) % 10000000000)::text, 10, '0'),
                                              'url', 'https://www.dhl.com/en/express/tracking.html?AWB=' || lpad((pg_temp.h(k, 25) % 10000000000)::text, 10, '0'))
               ELSE jsonb_build_object('company', 'USPS', 'number', '9400' || lpad(k::text, 18, '0'),
                                       'url', 'https://tools.usps.com/go/TrackConfirmAction?tLabels=9400' || lpad(k::text, 18, '0')) END)))
            ELSE '[]'::jsonb END,
       CASE WHEN fin IN ('REFUNDED', 'PARTIALLY_REFUNDED') THEN jsonb_build_array(jsonb_build_object(
           'id', 'gid://shopify/Refund/' || (2000000000000 + k),
           'createdAt', to_char((ts + interval '12 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'note', CASE WHEN fin = 'REFUNDED' THEN 'Returned: wrong size' ELSE 'Damaged in transit' END,
           'totalRefundedSet', jsonb_build_object('shopMoney', jsonb_build_object(
               'amount', (CASE WHEN fin = 'REFUNDED' THEN sub + 4.95 ELSE round(sub / 3, 2) END)::text, 'currencyCode', 'USD'))))
            ELSE '[]'::jsonb END
FROM (SELECT k, ts, sub, fin,
             CASE WHEN fin = 'VOIDED' OR fin = 'PENDING' THEN 'UNFULFILLED'
                  WHEN k > :orders - :orders / 400 THEN 'UNFULFILLED'
                  WHEN pg_temp.h(k, 26) % 50 = 0 THEN 'PARTIALLY_FULFILLED' ELSE 'FULFILLED' END AS ful,
             CASE WHEN u < 0.08 THEN NULL
                  WHEN u < 0.10 THEN 1 + (pg_temp.h(floor(random() * 100)::bigint, 27) % :customers)
                  WHEN u < 0.35 THEN 1 + (pg_temp.h(floor(random() * 10000)::bigint, 28) % :customers)
                  ELSE 1 + floor(random() * :customers)::bigint END AS ci,
             jsonb_build_object('address1', (1 + pg_temp.h(k, 29) % 400)::text || ' Main St', 'city', 'Berlin', 'zip', '10115',
                                'country', 'Germany', 'countryCodeV2', 'DE') AS addr
      FROM (SELECT k, random() AS u,
                   timestamptz '2016-01-01 00:00:00+00' + make_interval(secs => (k::float8 / :orders) * 315360000 + (pg_temp.h(k, 30) % 3600)) AS ts,
                   round(((5 + pg_temp.h(k, 31) % 30000) / 100.0)::numeric, 2) AS sub,
                   CASE WHEN pg_temp.h(k, 32) % 100 < 85 THEN 'PAID' WHEN pg_temp.h(k, 32) % 100 < 88 THEN 'REFUNDED'
                        WHEN pg_temp.h(k, 32) % 100 < 92 THEN 'PARTIALLY_REFUNDED' WHEN pg_temp.h(k, 32) % 100 < 97 THEN 'PENDING'
                        ELSE 'VOIDED' END AS fin
            FROM generate_series(1, :orders::bigint) k) o0) o;

SELECT pg_temp.rebuild_indexes('orders') \g /dev/null
COMMIT;

\echo '   order lines'
BEGIN;
SELECT pg_temp.drop_indexes('order_lines') \g /dev/null
-- Line j (0 .. 4M-1) is slot j / M of order 1 + ((j % M) * 7919) % M; an order has 1 + h % 4 slots.
INSERT INTO order_lines (shop_id, id, gid, order_id, title, name, variant_title, sku, vendor, quantity, current_quantity,
                         unfulfilled_quantity, variant_id, product_id, original_unit_price, discounted_unit_price,
                         original_total, discounted_total, total_discount, currency_code, taxable, requires_shipping, is_gift_card)
SELECT :shop_id, 4000000000000 + j, 'gid://shopify/LineItem/' || (4000000000000 + j), 5000000000000 + k,
       title, title || ' - ' || variant, variant, upper(left(title, 3)) || '-' || (p % 1000)::text, 'Acme Goods',
       q, q, 0, 8000000000000 + p * 10 + v, 7000000000000 + p, price, price, price * q, price * q, 0, NULL, true, true, false
FROM (SELECT j, k, p, v, q, pg_temp.pick(ARRAY['Merino Sweater','Canvas Tote','Trail Runner','Linen Shirt','Wool Socks','Rain Jacket',
                                               'Leather Belt','Espresso Cup','Desk Lamp','Yoga Mat','Water Bottle','Beanie'], p) AS title,
             pg_temp.pick(ARRAY['S','M','L','XL','Black','Navy','Olive','One size'], v) AS variant,
             round(((900 + (p * 37) % 12000) / 100.0)::numeric, 2) AS price
      FROM (SELECT j, k, pg_temp.h(j, 41) % 2000 AS p, pg_temp.h(j, 42) % 8 AS v, 1 + (pg_temp.h(j, 43) % 10) / 7 AS q
            FROM (SELECT j, 1 + ((j % :orders) * 7919) % :orders AS k FROM generate_series(0, 4 * :orders::bigint - 1) j) s
            WHERE j / :orders < 1 + pg_temp.h(1 + ((j % :orders) * 7919) % :orders, 40) % 4) l0) l;

SELECT pg_temp.rebuild_indexes('order_lines') \g /dev/null
COMMIT;
