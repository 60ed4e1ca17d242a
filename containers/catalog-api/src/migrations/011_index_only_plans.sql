-- Stock functions plan with indexes only (issue #18, found by the open-loop benchmark).
--
-- PL/pgSQL caches each statement's plan per database connection, and after five calls may keep a generic plan
-- for the connection's life. A connection that first ran reserve_stock() while `reservations` was nearly empty
-- (a fresh deploy, a new sale table, any database where ANALYZE has not run since) got sequential scans for the
-- idempotency-key lookup and the expiry probe, the cheapest plans for a one-page table, and kept them while the
-- table grew: measured on the flash-sale path, the database's CPU per reservation doubled within one 8 s step
-- and the SKU's throughput halved. RDS Proxy keeps its database connections for hours, so production would see
-- the same until autovacuum's ANALYZE invalidated the plans. Every statement of these functions has an index
-- made for it, so sequential scans are switched off inside them (a function-level SET: restored on return, no
-- session state left for RDS Proxy to pin on).
ALTER FUNCTION reserve_stock(text, integer, text, integer, text) SET enable_seqscan = off;
ALTER FUNCTION release_expired_reservations(text, integer, boolean) SET enable_seqscan = off;
ALTER FUNCTION return_stock(text, integer) SET enable_seqscan = off;
ALTER FUNCTION finish_reservation(text, uuid, text, text) SET enable_seqscan = off;
ALTER FUNCTION restock_stock(text, text, integer, integer, text, text, text) SET enable_seqscan = off;
