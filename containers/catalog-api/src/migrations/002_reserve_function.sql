-- Expired reservations give their stock back. One statement: the rows flip to
-- 'expired' and the stock returns together, or neither happens. SKIP LOCKED lets
-- concurrent sweeps share the work instead of queueing behind each other.
CREATE OR REPLACE FUNCTION release_expired_reservations(p_sku text, p_limit integer)
RETURNS integer
LANGUAGE sql
AS $$
  WITH expired AS (
    UPDATE reservations r
       SET status = 'expired', released_at = now()
     WHERE r.id IN (
       SELECT id FROM reservations
        WHERE status = 'active' AND expires_at <= now()
          AND (p_sku IS NULL OR sku = p_sku)
        ORDER BY expires_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED)
    RETURNING r.sku, r.quantity
  ), totals AS (
    SELECT sku, sum(quantity)::integer AS quantity FROM expired GROUP BY sku
  ), restocked AS (
    UPDATE inventory i
       SET available = i.available + t.quantity, updated_at = now()
      FROM totals t
     WHERE i.sku = t.sku
    RETURNING t.quantity
  )
  SELECT coalesce(sum(quantity), 0)::integer FROM restocked
$$;

-- The reservation, called as ONE statement on the writer:
--   SELECT * FROM reserve_stock($sku, $quantity, $key, $ttlSeconds)
-- * never oversells: the conditional UPDATE (available >= quantity) re-checks the
--   row after waiting for its lock (READ COMMITTED re-evaluation), and the CHECK
--   constraint forbids a negative value anyway;
-- * idempotent: a known key returns the stored reservation; two concurrent first
--   attempts with one key collide on the UNIQUE index, and the loser's decrement
--   is rolled back by the exception block (a savepoint) before it returns the
--   winner's reservation;
-- * outcome: 'created' | 'existing' | 'sold_out' | 'not_found'.
CREATE OR REPLACE FUNCTION reserve_stock(p_sku text, p_quantity integer, p_key text, p_ttl_seconds integer)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz, available integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  v_available integer;
  r reservations%ROWTYPE;
BEGIN
  SELECT * INTO r FROM reservations WHERE reservations.idempotency_key = p_key;
  IF FOUND THEN
    RETURN QUERY SELECT 'existing'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                        r.created_at, r.expires_at, NULL::integer;
    RETURN;
  END IF;

  PERFORM release_expired_reservations(p_sku, 100);

  BEGIN
    UPDATE inventory
       SET available = inventory.available - p_quantity, updated_at = now()
     WHERE inventory.sku = p_sku AND inventory.available >= p_quantity
    RETURNING inventory.available INTO v_available;

    IF NOT FOUND THEN
      IF EXISTS (SELECT 1 FROM inventory WHERE inventory.sku = p_sku) THEN
        RETURN QUERY SELECT 'sold_out'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                            NULL::timestamptz, NULL::timestamptz,
                            (SELECT inventory.available FROM inventory WHERE inventory.sku = p_sku);
      ELSE
        RETURN QUERY SELECT 'not_found'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                            NULL::timestamptz, NULL::timestamptz, NULL::integer;
      END IF;
      RETURN;
    END IF;

    INSERT INTO reservations (sku, quantity, idempotency_key, expires_at)
    VALUES (p_sku, p_quantity, p_key, now() + make_interval(secs => p_ttl_seconds))
    RETURNING * INTO r;
  EXCEPTION WHEN unique_violation THEN
    -- A concurrent request with the same key won; our decrement is undone.
    SELECT * INTO r FROM reservations WHERE reservations.idempotency_key = p_key;
    RETURN QUERY SELECT 'existing'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                        r.created_at, r.expires_at, NULL::integer;
    RETURN;
  END;

  RETURN QUERY SELECT 'created'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                      r.created_at, r.expires_at, v_available;
END
$$;
