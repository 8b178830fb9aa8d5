-- Flyway migration: https://documentation.red-gate.com/fd/migrations-184127470.html
-- GIN fast update and its pending list: https://www.postgresql.org/docs/15/gin-implementation.html#GIN-FAST-UPDATE
-- The trigram indexes of V2 were created with GIN's default fastupdate = on: new rows go to an unsorted pending
-- list that every search reads in full until VACUUM (or autovacuum) merges it. After a bulk load of 10 000
-- products the sku index's pending list held all 10 000 rows, the planner priced the index above a sequential
-- scan, and each search read the whole table again (loadtest/README.md, "Benchmark"). The catalog is written
-- rarely and searched often: rows go straight into the index instead, and what an existing database has pending
-- is merged now. gin_clean_pending_list needs the index's owner, which is who runs the migrations.
ALTER INDEX product_name_trgm_idx SET (fastupdate = off);
ALTER INDEX product_sku_trgm_idx SET (fastupdate = off);
SELECT gin_clean_pending_list('product_name_trgm_idx'::regclass);
SELECT gin_clean_pending_list('product_sku_trgm_idx'::regclass);
