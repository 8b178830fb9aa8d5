-- Flyway migration: https://documentation.red-gate.com/fd/migrations-184127470.html
-- pg_trgm: https://www.postgresql.org/docs/current/pgtrgm.html
-- The catalog search (?q=, ProductRepository.list) is `name ILIKE '%term%' OR sku ILIKE '%term%'`. Without these
-- indexes each search reads the whole product table twice (the page and its count). Trigram GIN indexes answer a
-- leading-wildcard ILIKE of three or more characters from the index; the planner combines the two with a
-- BitmapOr. Additive only: an extension and two indexes, no change to existing objects.
-- pg_trgm is a contrib module shipped by Debian's postgresql package, the official postgres images and the embedded
-- binaries of the Java suite; it is a trusted extension (PostgreSQL 13+), so the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX product_name_trgm_idx ON product USING gin (name gin_trgm_ops);
CREATE INDEX product_sku_trgm_idx ON product USING gin (sku gin_trgm_ops);
