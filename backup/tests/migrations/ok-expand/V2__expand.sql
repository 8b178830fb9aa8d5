-- Additive: a nullable column, a column with a default, an index, an extension, a new table.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX item_sku_trgm_idx ON item USING gin (sku gin_trgm_ops);
ALTER TABLE item ADD COLUMN weight_g INTEGER, ADD COLUMN active BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE item ADD CONSTRAINT item_weight_ck CHECK (weight_g >= 0), ALTER COLUMN note DROP NOT NULL;
CREATE TABLE tag (id BIGINT PRIMARY KEY, label TEXT NOT NULL);
ALTER TABLE tag ADD COLUMN colour TEXT NOT NULL;
COMMENT ON COLUMN item.note IS 'free text; DROP TABLE item; is only a string here';
