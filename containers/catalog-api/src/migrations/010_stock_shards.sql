-- Stock shards (issue #18): a SKU's stock is split over N rows of `inventory`, one per shard, so concurrent
-- reservations of one SKU take different row locks instead of queueing on one.
--
-- `inventory` keeps its name, its columns and its CHECK (available >= 0); each row is now one shard, keyed by
-- (sku, shard). The SKU's stock is sum(available) over its rows, its shard count the number of rows (shards are
-- numbered 0..N-1). Existing rows become shard 0 of their SKU, so the migration keeps every unit.
--
-- Lock discipline (no deadlocks): a transaction either only takes shard locks with SKIP LOCKED (never waits),
-- or waits for shard locks in ascending shard order while holding only lower shards of that SKU. Restock and
-- re-sharding first lock the product row, so two of them on one SKU run one after the other.
ALTER TABLE inventory ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63);
ALTER TABLE inventory DROP CONSTRAINT inventory_pkey;
ALTER TABLE inventory ADD PRIMARY KEY (sku, shard);

-- Lifecycle: confirmed (checkout: an order line, never expires, units never return) and cancelled (units back).
ALTER TABLE reservations DROP CONSTRAINT reservations_status_check;
ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('active', 'expired', 'cancelled', 'confirmed'));
-- The verified token's subject at creation: the one caller who may cancel or confirm it (every reservation route
-- requires a token). NULL only on holds made before this migration: nobody can finish those, they expire.
ALTER TABLE reservations ADD COLUMN owner text;
ALTER TABLE reservations ADD COLUMN confirmed_at timestamptz;
-- Confirmed units per SKU (benchmark invariant: stocked = shards + held + confirmed).
CREATE INDEX IF NOT EXISTS reservations_confirmed_idx ON reservations (sku) WHERE status = 'confirmed';

-- Shard count chosen when a restock or the seed does not give one: a SKU stocked with at least 1,000 units gets
-- at least 16 shards (sale-ready; see README "Stock shards" for the measurement), smaller ones keep what they have.
CREATE OR REPLACE FUNCTION default_shard_count(p_total bigint, p_current integer)
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN p_total >= 1000 THEN greatest(coalesce(p_current, 1), 16) ELSE coalesce(p_current, 1) END
$$;

-- Give units back to one shard of the SKU: an unlocked one if any (no waiting behind a reservation), else the
-- lowest shard, waiting (bounded by the caller's lock_timeout). Loops when a concurrent re-shard deleted the
-- chosen row. Returns the shard that received the units.
CREATE OR REPLACE FUNCTION return_stock(p_sku text, p_units integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  v_shard integer;
BEGIN
  IF p_units <= 0 THEN RETURN NULL; END IF;
  FOR attempt IN 1..5 LOOP
    UPDATE inventory i SET available = i.available + p_units, updated_at = now()
     WHERE i.sku = p_sku AND i.shard = (SELECT s.shard FROM inventory s WHERE s.sku = p_sku
                                          ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING i.shard INTO v_shard;
    IF FOUND THEN RETURN v_shard; END IF;
    UPDATE inventory i SET available = i.available + p_units, updated_at = now()
     WHERE i.sku = p_sku AND i.shard = (SELECT s.shard FROM inventory s WHERE s.sku = p_sku
                                          ORDER BY s.shard LIMIT 1 FOR UPDATE)
    RETURNING i.shard INTO v_shard;
    IF FOUND THEN RETURN v_shard; END IF;
    IF NOT EXISTS (SELECT 1 FROM inventory s WHERE s.sku = p_sku) THEN
      RAISE EXCEPTION 'no stock shard for SKU %', p_sku USING ERRCODE = 'P0002';
    END IF;
  END LOOP;
  RAISE EXCEPTION 'could not return % units to SKU %', p_units, p_sku USING ERRCODE = '40001';
END
$$;

-- Expired reservations give their stock back: rows flip to 'expired' and their units return to one shard of
-- their SKU in the same transaction, or neither happens. SKIP LOCKED on the reservations lets concurrent sweeps
-- (and a confirm or cancel holding the row) proceed without queueing; the row lock decides which of expiry,
-- confirm and cancel wins. p_wait = false (the reservation path): when every shard is locked the sweep is skipped
-- and left to a later call, so the caller never waits while holding a shard.
DROP FUNCTION IF EXISTS release_expired_reservations(text, integer);
CREATE OR REPLACE FUNCTION release_expired_reservations(p_sku text, p_limit integer, p_wait boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
  v_total integer := 0;
  v_shard integer;
  v_units integer;
  g record;
BEGIN
  IF p_sku IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM reservations WHERE sku = p_sku AND status = 'active' AND expires_at <= now()) THEN
    RETURN 0; -- the common case on the reservation path: one index probe, no lock
  END IF;
  -- SKUs in order, so two global sweeps wait for shard locks in the same order.
  FOR g IN
    SELECT DISTINCT r.sku FROM reservations r
     WHERE r.status = 'active' AND r.expires_at <= now() AND (p_sku IS NULL OR r.sku = p_sku)
     ORDER BY r.sku
  LOOP
    SELECT s.shard INTO v_shard FROM inventory s WHERE s.sku = g.sku ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
      IF NOT p_wait THEN CONTINUE; END IF;
      SELECT s.shard INTO v_shard FROM inventory s WHERE s.sku = g.sku ORDER BY s.shard LIMIT 1 FOR UPDATE;
      IF NOT FOUND THEN CONTINUE; END IF;
    END IF;
    WITH expired AS (
      UPDATE reservations r SET status = 'expired', released_at = now()
       WHERE r.id IN (SELECT x.id FROM reservations x
                       WHERE x.sku = g.sku AND x.status = 'active' AND x.expires_at <= now()
                       ORDER BY x.expires_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
      RETURNING r.quantity)
    SELECT coalesce(sum(quantity), 0)::integer INTO v_units FROM expired;
    IF v_units > 0 THEN
      UPDATE inventory SET available = available + v_units, updated_at = now() WHERE sku = g.sku AND shard = v_shard;
      IF NOT FOUND THEN
        -- The shard was deleted by a re-shard between our lock and now (it cannot be: we hold it); be safe anyway.
        PERFORM return_stock(g.sku, v_units);
      END IF;
      v_total := v_total + v_units;
    END IF;
  END LOOP;
  RETURN v_total;
END
$$;

-- The reservation, called as ONE statement inside the API's bounded transaction:
--   SELECT * FROM reserve_stock($sku, $quantity, $key, $ttlSeconds, $owner)
-- * never oversells: every decrement is a conditional UPDATE of a locked shard (available >= taken, re-checked
--   on the latest row version), and CHECK (available >= 0) forbids a negative shard anyway;
-- * never undersells: 'sold_out' is answered only when a fresh read of the SKU's TOTAL (all shards, including
--   rows a concurrent re-shard created) is below the quantity. Otherwise the passes below find the units:
--     1. one random unlocked shard that has the whole quantity (FOR UPDATE SKIP LOCKED): the flash-sale path;
--        1b. when all such shards are locked, wait for one of them at random (bounded by lock_timeout);
--            if it ran dry meanwhile, start over (fresh total);
--     2. several unlocked shards, taking what each has (SKIP LOCKED; rolled back if they do not add up);
--     3. every shard in ascending order, waiting for locks (bounded by the transaction's lock_timeout), which
--        sees the units that passes 1-2 skipped because another transaction held their shard;
--   and the loop repeats (4 attempts, then 'busy', answered 503) when the units moved between passes;
-- * idempotent: a known key returns the stored reservation to the owner that made it (another owner gets
--   'key_taken' and sees nothing of it); two concurrent first attempts with one key collide on the UNIQUE index
--   (ON CONFLICT DO NOTHING) and the loser gives its units back before answering 'existing' / 'key_taken';
-- * outcome: 'created' | 'existing' | 'key_taken' | 'sold_out' | 'not_found' | 'busy'.
DROP FUNCTION IF EXISTS reserve_stock(text, integer, text, integer);
CREATE OR REPLACE FUNCTION reserve_stock(p_sku text, p_quantity integer, p_key text, p_ttl_seconds integer,
                                         p_owner text DEFAULT NULL)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz, available integer)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  v_shards integer[] := '{}';
  v_takes integer[] := '{}';
  v_need integer;
  v_take integer;
  v_total bigint;
  v_shard integer;
  rec record;
  r reservations%ROWTYPE;
BEGIN
  SELECT * INTO r FROM reservations WHERE reservations.idempotency_key = p_key;
  IF FOUND THEN
    IF r.owner IS DISTINCT FROM p_owner THEN
      RETURN QUERY SELECT 'key_taken'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                          NULL::timestamptz, NULL::timestamptz, NULL::integer;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'existing'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                        r.created_at, r.expires_at, NULL::integer;
    RETURN;
  END IF;

  FOR attempt IN 1..4 LOOP
    -- Pass 1. Every pass runs in a subtransaction that is rolled back when it takes nothing: a row lock whose
    -- re-check failed (the shard ran dry after our snapshot) stays held otherwise, and a transaction holding an
    -- arbitrary shard must never wait for another (deadlock). On success it commits (cheap, no rollback).
    BEGIN
      UPDATE inventory i SET available = i.available - p_quantity, updated_at = now()
       WHERE i.sku = p_sku AND i.shard = (SELECT s.shard FROM inventory s
                                           WHERE s.sku = p_sku AND s.available >= p_quantity
                                           ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING i.shard INTO v_shard;
      IF NOT FOUND THEN RAISE EXCEPTION 'short' USING ERRCODE = 'CAT01'; END IF;
      v_shards := ARRAY[v_shard]; v_takes := ARRAY[p_quantity];
    EXCEPTION WHEN SQLSTATE 'CAT01' THEN
      NULL;
    END;
    EXIT WHEN cardinality(v_shards) > 0;

    -- First attempt: nothing held here, so expired holds of this SKU may return to a shard, waiting if need be
    -- (the lowest shard, which keeps the ascending lock order of pass 3).
    PERFORM release_expired_reservations(p_sku, 100, attempt = 1);
    SELECT sum(s.available) INTO v_total FROM inventory s WHERE s.sku = p_sku;
    IF v_total IS NULL THEN
      RETURN QUERY SELECT 'not_found'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                          NULL::timestamptz, NULL::timestamptz, NULL::integer;
      RETURN;
    END IF;
    IF v_total < p_quantity THEN
      RETURN QUERY SELECT 'sold_out'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                          NULL::timestamptz, NULL::timestamptz, v_total::integer;
      RETURN;
    END IF;

    -- Pass 1b: each shard holding the quantity was locked by another reservation. Wait for ONE of them, picked
    -- at random (waiting on the lowest would queue every such request on one row again), holding nothing else;
    -- the UPDATE re-checks the quantity once the lock is ours. If that shard ran dry meanwhile, the next attempt
    -- starts over with a fresh total (near the end of a sale: sold out, without a chain of lock waits).
    -- From the third attempt on, straight to pass 3, whose answer is definitive.
    SELECT s.shard INTO v_shard FROM inventory s WHERE s.sku = p_sku AND s.available >= p_quantity
     ORDER BY random() LIMIT 1;
    IF FOUND AND attempt < 3 THEN
      BEGIN
        UPDATE inventory i SET available = i.available - p_quantity, updated_at = now()
         WHERE i.sku = p_sku AND i.shard = v_shard AND i.available >= p_quantity;
        IF NOT FOUND THEN RAISE EXCEPTION 'short' USING ERRCODE = 'CAT01'; END IF;
        v_shards := ARRAY[v_shard]; v_takes := ARRAY[p_quantity];
      EXCEPTION WHEN SQLSTATE 'CAT01' THEN
        NULL;
      END;
      EXIT WHEN cardinality(v_shards) > 0;
      CONTINUE;
    END IF;

    -- Pass 2, in a subtransaction: if the unlocked shards do not add up, its decrements AND its row locks are
    -- rolled back, so pass 3 starts holding no shard it did not take in ascending order.
    BEGIN
      v_need := p_quantity; v_shards := '{}'; v_takes := '{}';
      FOR rec IN SELECT s.shard, s.available FROM inventory s WHERE s.sku = p_sku AND s.available > 0
                  ORDER BY random() FOR UPDATE SKIP LOCKED LOOP
        v_take := least(rec.available, v_need);
        UPDATE inventory SET available = available - v_take, updated_at = now() WHERE sku = p_sku AND shard = rec.shard;
        v_shards := v_shards || rec.shard; v_takes := v_takes || v_take;
        v_need := v_need - v_take;
        EXIT WHEN v_need = 0;
      END LOOP;
      IF v_need > 0 THEN RAISE EXCEPTION 'short' USING ERRCODE = 'CAT01'; END IF;
    EXCEPTION WHEN SQLSTATE 'CAT01' THEN
      v_shards := '{}'; v_takes := '{}';
    END;
    EXIT WHEN cardinality(v_shards) > 0;

    -- Pass 3: ascending, waiting. Also a subtransaction: when even every visible shard locked does not add up
    -- (units moved by a re-shard, a cancel in flight), its decrements and locks are rolled back, so the next
    -- attempt again starts holding nothing, and decides on a fresh total.
    BEGIN
      v_need := p_quantity; v_shards := '{}'; v_takes := '{}';
      FOR rec IN SELECT s.shard, s.available FROM inventory s WHERE s.sku = p_sku AND s.available > 0
                  ORDER BY s.shard FOR UPDATE LOOP
        v_take := least(rec.available, v_need);
        UPDATE inventory SET available = available - v_take, updated_at = now() WHERE sku = p_sku AND shard = rec.shard;
        v_shards := v_shards || rec.shard; v_takes := v_takes || v_take;
        v_need := v_need - v_take;
        EXIT WHEN v_need = 0;
      END LOOP;
      IF v_need > 0 THEN RAISE EXCEPTION 'short' USING ERRCODE = 'CAT01'; END IF;
    EXCEPTION WHEN SQLSTATE 'CAT01' THEN
      v_shards := '{}'; v_takes := '{}';
    END;
    EXIT WHEN cardinality(v_shards) > 0;
  END LOOP;

  IF cardinality(v_shards) = 0 THEN
    -- Last word on a fresh total: sold out if it is below the quantity, else busy (503: retry).
    SELECT sum(s.available) INTO v_total FROM inventory s WHERE s.sku = p_sku;
    IF v_total < p_quantity THEN
      RETURN QUERY SELECT 'sold_out'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                          NULL::timestamptz, NULL::timestamptz, v_total::integer;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'busy'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                        NULL::timestamptz, NULL::timestamptz, NULL::integer;
    RETURN;
  END IF;

  INSERT INTO reservations (sku, quantity, idempotency_key, expires_at, owner)
  VALUES (p_sku, p_quantity, p_key, now() + make_interval(secs => p_ttl_seconds), p_owner)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING * INTO r;
  IF NOT FOUND THEN
    -- A concurrent request with the same key won: our units go back to the shards we hold.
    FOR k IN 1..cardinality(v_shards) LOOP
      UPDATE inventory SET available = available + v_takes[k] WHERE sku = p_sku AND shard = v_shards[k];
    END LOOP;
    SELECT * INTO r FROM reservations WHERE reservations.idempotency_key = p_key;
    IF r.owner IS DISTINCT FROM p_owner THEN
      RETURN QUERY SELECT 'key_taken'::text, NULL::uuid, p_sku, p_quantity, p_key, NULL::text,
                          NULL::timestamptz, NULL::timestamptz, NULL::integer;
      RETURN;
    END IF;
    RETURN QUERY SELECT 'existing'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                        r.created_at, r.expires_at, NULL::integer;
    RETURN;
  END IF;

  -- Expired holds of this SKU go back without waiting (we hold a shard now).
  PERFORM release_expired_reservations(p_sku, 100, false);

  -- available: NULL (summing the shards would cost a scan per reservation; GET .../inventory has it fresh).
  RETURN QUERY SELECT 'created'::text, r.id, r.sku, r.quantity, r.idempotency_key, r.status,
                      r.created_at, r.expires_at, NULL::integer;
END
$$;

-- Restock and re-shard in one transaction with its audit row. mode 'set' (value = new total) or 'add'
-- (value = increment; 0 with p_shards = re-shard only). p_shards NULL: default_shard_count(). The product row
-- lock serializes restocks of one SKU (NO KEY UPDATE: reservation inserts only take KEY SHARE on it); then every
-- shard is locked in ascending order, which waits for in-flight reservations, so the total is exact: units are
-- redistributed (kept shards updated in place, extra ones deleted, new ones inserted) under those locks.
-- outcome: 'ok' | 'not_found' | 'too_large' (the total would not fit an integer).
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
  v_next := CASE p_mode WHEN 'set' THEN p_value::bigint ELSE v_prev + p_value END;
  IF v_next > 2147483647 THEN
    RETURN QUERY SELECT 'too_large'::text, v_prev::integer, NULL::integer, v_count, NULL::integer, NULL::timestamptz, NULL::bigint;
    RETURN;
  END IF;
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

-- Cancel and confirm: the reservation row lock decides between them and the expiry sweep (which skips locked
-- rows): exactly one of them changes an 'active' row, the others see its new status.
-- Ownership: p_owner (the caller's verified token subject) must be the reservation's owner; a hold without an
-- owner (made before this migration) can be finished by nobody and expires.
-- outcome: 'cancelled' / 'confirmed' (done now) | 'replayed' (already in that state) | 'not_found' | 'forbidden'
--        | 'conflict' (status names the state: expired, confirmed, cancelled).
CREATE OR REPLACE FUNCTION finish_reservation(p_action text, p_id uuid, p_sku text, p_owner text)
RETURNS TABLE (outcome text, id uuid, sku text, quantity integer, idempotency_key text, status text,
               created_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
  r reservations%ROWTYPE;
  v_state text;
  v_target text := CASE p_action WHEN 'cancel' THEN 'cancelled' WHEN 'confirm' THEN 'confirmed' END;
BEGIN
  IF v_target IS NULL THEN RAISE EXCEPTION 'unknown action %', p_action; END IF;
  SELECT * INTO r FROM reservations WHERE reservations.id = p_id FOR UPDATE;
  IF NOT FOUND OR r.sku <> p_sku THEN
    RETURN QUERY SELECT 'not_found'::text, p_id, p_sku, NULL::integer, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  IF r.owner IS NULL OR p_owner IS NULL OR r.owner <> p_owner THEN
    RETURN QUERY SELECT 'forbidden'::text, r.id, r.sku, NULL::integer, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  -- An active hold past its expiry is expired, swept or not.
  v_state := CASE WHEN r.status = 'active' AND r.expires_at <= now() THEN 'expired' ELSE r.status END;
  IF v_state <> 'active' THEN
    RETURN QUERY SELECT CASE WHEN v_state = v_target THEN 'replayed' ELSE 'conflict' END, r.id, r.sku, r.quantity,
                        r.idempotency_key, v_state, r.created_at, r.expires_at;
    RETURN;
  END IF;
  IF v_target = 'cancelled' THEN
    UPDATE reservations SET status = 'cancelled', released_at = now() WHERE reservations.id = p_id;
    PERFORM return_stock(r.sku, r.quantity);
  ELSE
    UPDATE reservations SET status = 'confirmed', confirmed_at = now() WHERE reservations.id = p_id;
  END IF;
  RETURN QUERY SELECT v_target, r.id, r.sku, r.quantity, r.idempotency_key, v_target, r.created_at, r.expires_at;
END
$$;

-- The benchmark's invariant check, one row per SKU (reads committed data; run it after the load stops):
--   stocked (what restocks set) = available + held + confirmed, negative_shards = 0.
-- held counts active holds, including those past expiry that no sweep released yet (their units are not in
-- the shards until released); granted = held + confirmed (+ expired and cancelled holds gave their units back).
CREATE OR REPLACE FUNCTION stock_summary(p_sku text)
RETURNS TABLE (sku text, shards integer, available bigint, negative_shards integer, held bigint,
               expired_unreleased bigint, confirmed bigint, granted bigint)
LANGUAGE sql STABLE
AS $$
  SELECT p_sku,
         (SELECT count(*)::integer FROM inventory i WHERE i.sku = p_sku),
         (SELECT coalesce(sum(i.available), 0) FROM inventory i WHERE i.sku = p_sku),
         (SELECT count(*)::integer FROM inventory i WHERE i.sku = p_sku AND i.available < 0),
         (SELECT coalesce(sum(r.quantity), 0) FROM reservations r WHERE r.sku = p_sku AND r.status = 'active'),
         (SELECT coalesce(sum(r.quantity), 0) FROM reservations r WHERE r.sku = p_sku AND r.status = 'active' AND r.expires_at <= now()),
         (SELECT coalesce(sum(r.quantity), 0) FROM reservations r WHERE r.sku = p_sku AND r.status = 'confirmed'),
         (SELECT coalesce(sum(r.quantity), 0) FROM reservations r WHERE r.sku = p_sku AND r.status IN ('active', 'confirmed'))
$$;

-- restock_stock() deletes the shards a re-shard to fewer drops, as the API's app role (SECURITY INVOKER): the
-- one DELETE the app gets (src/db-roles.mjs gives it none by default). The role name is the migrator's session
-- setting (src/migrate.mjs); a migrator that sets none (a superuser's ad-hoc run) grants nothing here, and the
-- next `npm run migrate` cannot add it (010 is applied by then): run this GRANT by hand in that case.
DO $$
DECLARE
  v_app text := nullif(current_setting('catalog.app_role', true), '');
BEGIN
  IF v_app IS NULL THEN
    RAISE NOTICE '010_stock_shards: catalog.app_role not set, DELETE on inventory not granted to the app role';
  ELSE
    EXECUTE format('GRANT DELETE ON inventory TO %I', v_app);
  END IF;
END
$$;
