-- The API's database role can only do what the API does.
--
-- Until now the app role had INSERT and UPDATE on every table (and DELETE on inventory), so a session as that role
-- could rewrite an audit row's actor, set a price to 1 or hand a reservation to another owner: far more than any
-- route does. Now every write the API makes goes through a function of the owner role that runs with the owner's
-- rights (SECURITY DEFINER) and a pinned search_path (public, then pg_temp last, so no object the caller could
-- create shadows ours; the app role cannot create any anyway); the app role keeps SELECT for its reads and EXECUTE.
--   reserve_stock          POST .../reservations
--   finish_reservation     cancel / confirm
--   restock_stock          PUT .../inventory (admin token), re-sharding
--   release_expired_reservations   the release-expired task (and the reservation path)
--   seed_products          the seed task (demo catalog)
-- The helpers they call (reserve_stock_unserialized, return_stock) stay SECURITY INVOKER: called by the functions
-- above they run with the owner's rights; called directly by the app role they can do nothing it may not.
-- The table grants themselves are the role bootstrap's (src/db-roles.mjs, run before the migrations on every
-- deploy); this migration revokes the old ones too, for a database migrated without that bootstrap.

-- The seed's two statements (src/seed-data.mjs called them as the app role), unchanged: products SKU-000001..N,
-- their stock split over the shards (remainder to the lowest), SKUs that already exist left alone.
CREATE OR REPLACE FUNCTION seed_products(p_count integer, p_stock integer, p_shards integer, p_categories text[])
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = public, pg_temp
AS $$
DECLARE
  v_inserted integer;
BEGIN
  IF p_count IS NULL OR p_count NOT BETWEEN 1 AND 1000000 OR p_stock IS NULL OR p_stock NOT BETWEEN 0 AND 1000000
     OR (p_shards IS NOT NULL AND p_shards NOT BETWEEN 1 AND 64) OR coalesce(cardinality(p_categories), 0) = 0 THEN
    RAISE EXCEPTION 'seed_products: count 1-1000000, stock 0-1000000, shards 1-64, categories non-empty'
      USING ERRCODE = '22023';
  END IF;
  INSERT INTO products (sku, name, description, category, price_cents)
  SELECT format('SKU-%s', lpad(g::text, 6, '0')), format('Product %s', g),
         format('Demo product number %s', g), p_categories[1 + g % cardinality(p_categories)],
         100 + (g * 7919) % 99900
    FROM generate_series(1, p_count) AS g
  ON CONFLICT (sku) DO NOTHING;
  GET DIAGNOSTICS v_inserted = ROW_COUNT;
  WITH k AS (SELECT coalesce(p_shards, default_shard_count(p_stock::bigint, NULL)) AS n)
  INSERT INTO inventory (sku, shard, available)
  SELECT format('SKU-%s', lpad(g::text, 6, '0')), s, p_stock / k.n + CASE WHEN s < p_stock % k.n THEN 1 ELSE 0 END
    FROM generate_series(1, p_count) AS g CROSS JOIN k CROSS JOIN generate_series(0, k.n - 1) AS s
   WHERE NOT EXISTS (SELECT 1 FROM inventory i WHERE i.sku = format('SKU-%s', lpad(g::text, 6, '0')));
  RETURN v_inserted;
END
$$;

ALTER FUNCTION reserve_stock(text, integer, text, integer, text) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION finish_reservation(text, uuid, text, text) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION restock_stock(text, text, integer, integer, text, text, text) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION release_expired_reservations(text, integer, boolean) SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION reserve_stock_unserialized(text, integer, text, integer, text) SET search_path = public, pg_temp;
ALTER FUNCTION return_stock(text, integer) SET search_path = public, pg_temp;

-- Functions are executable by the app role alone (the bootstrap's default privileges); PUBLIC never.
REVOKE EXECUTE ON FUNCTION seed_products(integer, integer, integer, text[]) FROM PUBLIC;

DO $$
DECLARE
  v_app text := nullif(current_setting('catalog.app_role', true), '');
BEGIN
  IF v_app IS NULL THEN
    RAISE NOTICE '013: catalog.app_role not set, the app role''s table grants are left to the role bootstrap';
    RETURN;
  END IF;
  EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM %I', v_app);
  EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', v_app);
  EXECUTE format('GRANT SELECT ON products, inventory, reservations, inventory_audit TO %I', v_app);
  EXECUTE format('GRANT EXECUTE ON FUNCTION seed_products(integer, integer, integer, text[]) TO %I', v_app);
END
$$;
