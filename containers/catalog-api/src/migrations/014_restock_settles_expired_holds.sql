-- A restock no longer oversells past what the admin set.
--
-- restock_stock() set the shards to the requested total while holds past their expiry were still 'active' (no sweep
-- had released them yet). GET .../inventory counts those units as available, so the admin saw them and set N; the
-- next sweep then put them back on sale: N + those units. Now the restock settles those holds itself, under the
-- same shard locks: 'set' makes the total exactly N, 'add' adds to the total the admin saw, and no later sweep finds
-- them. previous_available (and the audit row's) is that total too. Holds still live at the restock are `reserved`,
-- not `available` (GET .../inventory shows both): if one expires or is cancelled later its units come back, as
-- they would without a restock.
CREATE OR REPLACE FUNCTION restock_stock(p_sku text, p_mode text, p_value integer, p_shards integer,
                                         p_actor text, p_reason text, p_request_id text)
RETURNS TABLE (outcome text, previous_available integer, available integer, previous_shards integer,
               shards integer, updated_at timestamptz, audit_id bigint)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  v_count integer;
  v_prev bigint;
  v_next bigint;
  v_k integer;
  v_audit bigint;
  v_expired bigint;
  v_settled uuid[];
BEGIN
  PERFORM 1 FROM products WHERE products.sku = p_sku FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::integer, NULL::integer, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
    RETURN;
  END IF;
  SELECT count(*), sum(l.available) INTO v_count, v_prev
    FROM (SELECT s.available FROM inventory s WHERE s.sku = p_sku ORDER BY s.shard FOR UPDATE) l;
  IF v_count = 0 THEN
    RETURN QUERY SELECT 'not_found'::text, NULL::integer, NULL::integer, NULL::integer, NULL::integer, NULL::timestamptz, NULL::bigint;
    RETURN;
  END IF;
  -- Holds already past their expiry are settled here, under the shard locks: their units join the total before it is
  -- set or added to, and they become 'expired' so no later sweep returns them on top of what the admin set. This is
  -- the total GET .../inventory showed (it counts them as available). SKIP LOCKED: a hold that a cancel or confirm
  -- is finishing right now is theirs to decide (waiting for it could deadlock with a cancel waiting for a shard).
  SELECT coalesce(sum(x.quantity), 0), coalesce(array_agg(x.id), '{}') INTO v_expired, v_settled
    FROM (SELECT r.id, r.quantity FROM reservations r
           WHERE r.sku = p_sku AND r.status = 'active' AND r.expires_at <= now()
           FOR UPDATE SKIP LOCKED) x;
  v_prev := v_prev + v_expired;
  v_next := CASE p_mode WHEN 'set' THEN p_value::bigint ELSE v_prev + p_value END;
  IF v_next > 2147483647 THEN
    RETURN QUERY SELECT 'too_large'::text, v_prev::integer, NULL::integer, v_count, NULL::integer, NULL::timestamptz, NULL::bigint;
    RETURN;
  END IF;
  -- Only now (a too_large answer leaves them as they were, to a sweep).
  UPDATE reservations SET status = 'expired', released_at = now() WHERE reservations.id = ANY (v_settled);
  v_k := coalesce(p_shards, default_shard_count(v_next, v_count));
  -- Even split; the remainder goes one unit each to the lowest shards.
  UPDATE inventory s SET available = (v_next / v_k + CASE WHEN s.shard < v_next % v_k THEN 1 ELSE 0 END)::integer,
                         updated_at = now()
   WHERE s.sku = p_sku AND s.shard < v_k;
  DELETE FROM inventory s WHERE s.sku = p_sku AND s.shard >= v_k;
  INSERT INTO inventory (sku, shard, available)
  SELECT p_sku, g, (v_next / v_k + CASE WHEN g < v_next % v_k THEN 1 ELSE 0 END)::integer
    FROM generate_series(v_count, v_k - 1) AS g;
  INSERT INTO inventory_audit (sku, previous_available, new_available, actor, reason, request_id)
  VALUES (p_sku, v_prev, v_next, p_actor, p_reason, p_request_id)
  RETURNING inventory_audit.id INTO v_audit;
  RETURN QUERY SELECT 'ok'::text, v_prev::integer, v_next::integer, v_count, v_k, now(), v_audit;
END
$$;

-- CREATE OR REPLACE resets a function's attributes: the ones 011 and 013 gave it, again.
ALTER FUNCTION restock_stock(text, text, integer, integer, text, text, text) SET enable_seqscan = off;
ALTER FUNCTION restock_stock(text, text, integer, integer, text, text, text) SECURITY DEFINER SET search_path = public, pg_temp;
