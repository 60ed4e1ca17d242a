-- 'sold_out' is decided on one snapshot that holds both the unreleased expired holds and the shards' total.
--
-- 012 retried a 'sold_out' when expired holds of the SKU were still visible afterwards, waiting for the sweep that
-- had them locked. A sweep that committed between the body's total read and that check slipped through: the total
-- had been read without its units, the check no longer saw the holds, and the call answered 'sold_out'; the copy
-- of the same key waiting on the key lock then took those units (201 beside 409 for one key, seen about once in
-- sixty sell-outs racing expiry). Now the check reads, in one statement, whether expired holds are still unreleased
-- OR the shards already hold the quantity: either way the units exist and the call waits (for the sweep, if one
-- holds them) and tries again. A call that still sees units in flight after its last attempt answers 'busy' (503,
-- retry) rather than a 'sold_out' its retry could contradict. Bounds and settings: 015's, unchanged.
CREATE OR REPLACE FUNCTION reserve_stock(p_sku text, p_quantity integer, p_key text, p_ttl_seconds integer,
                                         p_owner text DEFAULT NULL)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz, available integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  res record;
  v_units_in_flight boolean;
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
  FOR attempt IN 1..4 LOOP
    BEGIN
      SELECT * INTO res FROM reserve_stock_unserialized(p_sku, p_quantity, p_key, p_ttl_seconds, p_owner);
      IF res.outcome = 'sold_out' THEN
        SELECT EXISTS (SELECT 1 FROM reservations x
                        WHERE x.sku = p_sku AND x.status = 'active' AND x.expires_at <= now())
               OR (SELECT coalesce(sum(s.available), 0) FROM inventory s WHERE s.sku = p_sku) >= p_quantity
          INTO v_units_in_flight;
        IF v_units_in_flight AND attempt < 4 THEN
          RAISE EXCEPTION 'expiring holds in flight' USING ERRCODE = 'CAT02';
        ELSIF v_units_in_flight THEN
          RETURN QUERY SELECT 'busy'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                              NULL::timestamptz, NULL::timestamptz, NULL::integer;
          RETURN;
        END IF;
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
