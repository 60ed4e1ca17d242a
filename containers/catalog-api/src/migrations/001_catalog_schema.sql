-- Products and their stock. Stock lives in its own row so the hot UPDATE of a
-- flash sale touches a narrow row and never rewrites the catalog data.
CREATE TABLE IF NOT EXISTS products (
  sku          text PRIMARY KEY CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description  text NOT NULL DEFAULT '',
  category     text NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
  price_cents  integer NOT NULL CHECK (price_cents >= 0),
  currency     char(3) NOT NULL DEFAULT 'USD',
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination: (category, sku) serves the filtered listing, the primary key the unfiltered one.
CREATE INDEX IF NOT EXISTS products_category_sku_idx ON products (category, sku);

CREATE TABLE IF NOT EXISTS inventory (
  sku         text PRIMARY KEY REFERENCES products (sku) ON DELETE CASCADE,
  -- The CHECK is the last line of defence: even a buggy statement cannot drive stock negative.
  available   integer NOT NULL CHECK (available >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS reservations (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sku              text NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
  quantity         integer NOT NULL CHECK (quantity > 0),
  -- Unique: a retried request with the same key can never create a second reservation.
  idempotency_key  text NOT NULL UNIQUE,
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  released_at      timestamptz
);

-- Finds the active reservations past their expiry per SKU (release sweep, fresh stock).
CREATE INDEX IF NOT EXISTS reservations_active_expiry_idx
  ON reservations (sku, expires_at) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS inventory_audit (
  id                  bigserial PRIMARY KEY,
  sku                 text NOT NULL REFERENCES products (sku) ON DELETE CASCADE,
  previous_available  integer NOT NULL,
  new_available       integer NOT NULL,
  actor               text NOT NULL,
  reason              text NOT NULL DEFAULT '',
  request_id          text,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS inventory_audit_sku_idx ON inventory_audit (sku, created_at);
