-- Flyway migration: https://documentation.red-gate.com/fd/migrations-184127470.html
-- Statement-level triggers with transition tables: https://www.postgresql.org/docs/15/sql-createtrigger.html
-- The total of a list without a search (GET /api/products) is the number of products. count(*) read the whole table
-- for every such page, and the catalog only grows (the load test's admins add products all the time), so the list's
-- PostgreSQL CPU grew with it (loadtest/README.md, "PostgreSQL per request"). The number is kept in one row instead,
-- changed by triggers in the same transaction as the rows it counts: a reader sees exactly the products its snapshot
-- sees, as count(*) did. Each inserting or deleting statement updates that row once (transition tables: a bulk insert
-- is one update), so concurrent catalog writes queue on it until they commit; catalog writes are rare next to reads.
CREATE TABLE product_count (
    only_row  BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    products  BIGINT  NOT NULL CHECK (products >= 0)
);

-- No product may be added or removed between the count and the triggers (Flyway runs a migration in one transaction).
LOCK TABLE product IN SHARE MODE;
INSERT INTO product_count (products) SELECT count(*) FROM product;

CREATE FUNCTION product_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_count SET products = products + (SELECT count(*) FROM added);
    RETURN NULL;
END
$$;

CREATE FUNCTION product_count_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_count SET products = products - (SELECT count(*) FROM removed);
    RETURN NULL;
END
$$;

CREATE FUNCTION product_count_reset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE product_count SET products = 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER product_count_insert AFTER INSERT ON product REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION product_count_add();
CREATE TRIGGER product_count_delete AFTER DELETE ON product REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION product_count_remove();
CREATE TRIGGER product_count_truncate AFTER TRUNCATE ON product
    FOR EACH STATEMENT EXECUTE FUNCTION product_count_reset();
