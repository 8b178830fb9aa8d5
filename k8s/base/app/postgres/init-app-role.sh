# shellcheck shell=bash
# Creates the application's own login role on first start of an empty data directory.
# Sourced (not executed) by the postgres image's entrypoint, which already runs with `set -Eeo pipefail`,
# from /docker-entrypoint-initdb.d/. Reference: https://hub.docker.com/_/postgres ("Initialization scripts").
# SHOP_DB_USER / SHOP_DB_PASSWORD come from the Secret shop-db (k8s/base/app/shop.yaml); psql variables
# (:"name" quotes an identifier, :'name' a literal) keep them out of the SQL text itself.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_user="$SHOP_DB_USER" -v app_password="$SHOP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
-- Owner of the database and of its public schema: Flyway creates and migrates the tables as this role.
ALTER DATABASE :"DBNAME" OWNER TO :"app_user";
ALTER SCHEMA public OWNER TO :"app_user";
SQL
