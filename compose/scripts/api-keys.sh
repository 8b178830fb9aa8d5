#!/usr/bin/env bash
# Makes the shop's API keys (README "Authentication", Contract A) once, for compose (`make up`) and the local service
# (src/test/scripts/local-service.sh):
#   DIR/shop/api-keys        the service's key file, '<key-id> <roles> <sha256-hex>' per line: hashes only, readable by
#                            the container's non-root user (compose mounts DIR/shop as a directory, so a replaced file
#                            is seen by the service's reload)
#   DIR/credentials/admin    the plain admin key (catalog writes), mode 0600
#   DIR/credentials/client   the plain client key (orders), mode 0600
# A key is `shop_` and 32 random bytes in unpadded base64url (43 characters). An existing key file is never
# overwritten: the keys stay valid across runs. Delete DIR to start over (README: rotation).
#
#   compose/scripts/api-keys.sh DIR         make them unless DIR/shop/api-keys exists
#   compose/scripts/api-keys.sh DIR ROLE    print the plain key of ROLE (admin or client)
set -euo pipefail

dir=${1:?usage: api-keys.sh DIR [admin|client]}

if [ $# -ge 2 ]; then
  case $2 in admin | client) ;; *) echo "api-keys: ROLE must be admin or client, not '$2'" >&2; exit 2 ;; esac
  [ -f "$dir/credentials/$2" ] || { echo "api-keys: no $2 key in $dir/credentials (run make up, or local-service.sh start, first)" >&2; exit 1; }
  cat "$dir/credentials/$2"
  echo
  exit 0
fi

[ -f "$dir/shop/api-keys" ] && exit 0

new_key() { printf 'shop_%s' "$(head -c 32 /dev/urandom | base64 | tr -d '\n=' | tr '+/' '-_')"; }
sha256_hex() {
  if command -v sha256sum >/dev/null; then printf '%s' "$1" | sha256sum | cut -d' ' -f1
  else printf '%s' "$1" | shasum -a 256 | cut -d' ' -f1; fi
}

mkdir -p "$dir/shop" "$dir/credentials"
chmod 0755 "$dir/shop"
chmod 0700 "$dir/credentials"
stamp=$(date -u +%Y%m%d)
admin=$(new_key)
client=$(new_key)
(umask 077 && printf '%s' "$admin" >"$dir/credentials/admin" && printf '%s' "$client" >"$dir/credentials/client")
{
  echo "# shop API keys, made by compose/scripts/api-keys.sh on $(date -u +%Y-%m-%dT%H:%MZ): '<key-id> <roles> <sha256-hex>'"
  echo "admin-$stamp admin $(sha256_hex "$admin")"
  echo "client-$stamp client $(sha256_hex "$client")"
} >"$dir/shop/api-keys.tmp"
chmod 0644 "$dir/shop/api-keys.tmp"
mv "$dir/shop/api-keys.tmp" "$dir/shop/api-keys"
echo "api-keys: new admin and client keys in $dir/credentials (make credential ROLE=admin|client prints one)"
