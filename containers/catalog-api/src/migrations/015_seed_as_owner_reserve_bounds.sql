-- The app role may no longer seed, and reserve_stock() refuses what no route would send.
--
-- seed_products() (013) creates products, the one write no route makes: it is the owner's alone now. The seed
-- (npm run seed, invoke dev, the tests, the bench; on AWS {"catalogTask":"seed"} on the migrate function) logs in
-- as the owner role (src/seed-data.mjs seedAsOwner). The role bootstrap grants EXECUTE on every function to the app
-- role on each deploy; src/db-roles.mjs OWNER_ONLY_FUNCTIONS takes this one back there too.
--
-- reserve_stock() is what a stolen app connection would call to take stock. The route only ever calls it with the
-- verified token's subject as owner, 1-10 units (src/validation.mjs LIMITS.reservationMax), the configured hold
-- time (RESERVATION_TTL_SECONDS, 1-86400, src/config.mjs) and a key of 8-128 characters of [A-Za-z0-9_.:-]
-- (KEY_PATTERN); the database took anything: one call could hold a SKU's whole stock for years, or make a hold
-- without an owner that no one may cancel (finish_reservation() refuses ownerless holds). Now the same bounds are
-- the function's own (test/db-roles.test.mjs keeps them equal to the route's). The body is 012's, unchanged.
DO $$
DECLARE
  v_app text := nullif(current_setting('catalog.app_role', true), '');
BEGIN
  IF v_app IS NULL THEN
    RAISE NOTICE '015: catalog.app_role not set, EXECUTE on seed_products is left to the role bootstrap';
    RETURN;
  END IF;
  EXECUTE format('REVOKE EXECUTE ON FUNCTION seed_products(integer, integer, integer, text[]) FROM %I', v_app);
END
$$;

CREATE OR REPLACE FUNCTION reserve_stock(p_sku text, p_quantity integer, p_key text, p_ttl_seconds integer,
                                         p_owner text DEFAULT NULL)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz, available integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  res record;
BEGIN
  IF p_quantity IS NULL OR p_quantity NOT BETWEEN 1 AND 10 OR p_ttl_seconds IS NULL OR p_ttl_seconds NOT BETWEEN 1 AND 86400
     OR p_key IS NULL OR p_key !~ '^[A-Za-z0-9_.:-]{8,128}$' OR coalesce(p_owner, '') = '' THEN
    RAISE EXCEPTION 'reserve_stock: quantity 1-10, ttl 1-86400 s, key 8-128 of [A-Za-z0-9_.:-], owner required'
      USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_xact_lock(7301, hashtext(p_key));
  IF NOT EXISTS (SELECT 1 FROM reservations x WHERE x.sku = p_sku AND x.status = 'active' AND x.expires_at <= now()) THEN
    RETURN QUERY SELECT * FROM reserve_stock_unserialized(p_sku, p_quantity, p_key, p_ttl_seconds, p_owner);
    RETURN;
  END IF;
  FOR attempt IN 1..3 LOOP
    BEGIN
      SELECT * INTO res FROM reserve_stock_unserialized(p_sku, p_quantity, p_key, p_ttl_seconds, p_owner);
      IF res.outcome = 'sold_out' AND attempt < 3 AND EXISTS (
          SELECT 1 FROM reservations x WHERE x.sku = p_sku AND x.status = 'active' AND x.expires_at <= now()) THEN
        RAISE EXCEPTION 'expiring holds in flight' USING ERRCODE = 'CAT02';
      END IF;
      RETURN QUERY SELECT res.outcome, res.id, res.sku, res.quantity, res.idempotency_key, res.status,
                          res.created_at, res.expires_at, res.available;
      RETURN;
    EXCEPTION WHEN SQLSTATE 'CAT02' THEN
      PERFORM 1 FROM reservations x WHERE x.sku = p_sku AND x.status = 'active' AND x.expires_at <= now() FOR UPDATE;
    END;
  END LOOP;
END
$$;
-- CREATE OR REPLACE keeps the grants but resets the settings: the ones 012 and 013 gave it, again.
ALTER FUNCTION reserve_stock(text, integer, text, integer, text) SET enable_seqscan = off;
ALTER FUNCTION reserve_stock(text, integer, text, integer, text) SECURITY DEFINER SET search_path = public, pg_temp;
