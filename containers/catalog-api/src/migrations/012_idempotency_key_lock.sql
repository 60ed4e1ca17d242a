-- A key is decided once, even when its copies arrive at the same instant.
--
-- reserve_stock() looked the key up first and only collided on the UNIQUE index at the end. Two copies of one
-- request (a client retrying on a slow network) both missed the lookup; while the first held the last units,
-- uncommitted, the second read a total below its quantity and answered 'sold_out' (409) to a shopper whose key
-- was about to hold the units. Now each call first takes a transaction lock on its key: a copy waits for the one
-- in flight (bounded by the transaction's lock_timeout, then 503 and the client retries), and its lookup, a new
-- statement with a fresh snapshot, finds the committed reservation ('existing', 200) or none (the first copy
-- rolled back or found nothing to take), so it decides on its own. Different keys never wait for each other
-- (barring a 32-bit hash collision, which only costs a short wait).
--
-- Lock order: the key lock is taken before anything else, holding nothing, so it adds no deadlock: a transaction
-- waiting for a key lock holds no shard, and one holding a key lock waits only for shards.
-- Advisory locks with two int4 keys live apart from the one-bigint locks (the migration lock): class 7301 is ours.
ALTER FUNCTION reserve_stock(text, integer, text, integer, text) RENAME TO reserve_stock_unserialized;

-- Sold out is also decided once the units of expired holds are in: a concurrent call releasing this SKU's expired
-- holds has them locked (the sweep skips locked rows), so their units were in nobody's total and a copy answered
-- 'sold_out' beside a copy that then took them. When the body answers 'sold_out' while such holds are visible,
-- its subtransaction is rolled back (it then holds no shard: no lock cycle), the call waits for the holds' lock
-- (bounded by lock_timeout) and tries again. The subtransaction costs about a tenth of the call, so it is used
-- only when expired holds of the SKU are visible at the start (as of this transaction's now(), which a later
-- check shares): otherwise there is nothing such a wait could bring back.
CREATE FUNCTION reserve_stock(p_sku text, p_quantity integer, p_key text, p_ttl_seconds integer,
                              p_owner text DEFAULT NULL)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz, available integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  res record;
BEGIN
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
ALTER FUNCTION reserve_stock(text, integer, text, integer, text) SET enable_seqscan = off;
