-- Flyway migration: https://documentation.red-gate.com/fd/migrations-184127470.html
-- Catalog and orders. Stock can never go negative: the CHECK is the last line of defence
-- behind the conditional UPDATE the order service issues.
CREATE TABLE product (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku          VARCHAR(64)  NOT NULL,
    name         VARCHAR(200) NOT NULL,
    description  VARCHAR(2000),
    price_cents  BIGINT       NOT NULL CHECK (price_cents >= 0),
    stock        INTEGER      NOT NULL CHECK (stock >= 0),
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    CONSTRAINT product_sku_uk UNIQUE (sku)
);

-- Case-insensitive substring search on name/sku (?q=) stays index-assisted with pg_trgm
-- where the extension exists; a plain lower() index keeps ordering by name cheap.
CREATE INDEX product_name_lower_idx ON product (lower(name));

CREATE TABLE customer_order (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status       VARCHAR(20)  NOT NULL,
    total_cents  BIGINT       NOT NULL CHECK (total_cents >= 0),
    created_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE TABLE order_line (
    order_id          BIGINT  NOT NULL REFERENCES customer_order (id) ON DELETE CASCADE,
    line_no           INTEGER NOT NULL,
    product_id        BIGINT  NOT NULL,
    quantity          INTEGER NOT NULL CHECK (quantity >= 1),
    unit_price_cents  BIGINT  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line_no)
);
