// k8s/scripts/kind-edge-check.sh offline (`make test-k8s-edge`): curl and kubectl are stubs on PATH that play an edge
// which redirects, serves TLS with HSTS, refuses anonymous writes and limits a burst, or that breaks one of those;
// the script must pass the first and name what is wrong in each other.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { K8S } from "./lib/render.mjs";
import { stubFolder } from "./lib/stubs.mjs";

/**
 * Runs kind-edge-check.sh against a stub edge. `redirect`: status and location of http://; `hsts`: the header line or
 * ""; `untrusted`: curl's exit without the CA; `auth`: whether the kind overlay's build sets SHOP_API_KEYS_FILE; `write`: the
 * status of an anonymous POST; `served`: how many requests of the burst get 200 before the rest get 429.
 */
function check({ redirect = "301 https://localhost/api/products?size=1", hsts = "strict-transport-security: max-age=31536000", untrusted = 60, auth = true, write = 401, served = 300 } = {}) {
  const { dir, calls, script } = stubFolder("kind-edge-check-");
  const ca = join(dir, "ca.crt");
  writeFileSync(ca, "-----BEGIN CERTIFICATE-----\n");
  script(
    "kubectl",
    `case "$*" in
  "kustomize k8s/overlays/kind") printf 'kind: Deployment\n        env:\n${auth ? "          - name: SHOP_API_KEYS_FILE\\n" : ""}          - name: JAVA_TOOL_OPTIONS\n' ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac`,
  );
  script(
    "curl",
    `args="$*"
case "$args" in
  *"-K "*) cfg="\${args##*-K }"; n=$(grep -c '^url = ' "$cfg"); for i in $(seq "$n"); do if [ "$i" -le ${served} ]; then echo 200; else echo 429; fi; done ;;
  *"http://"*) echo "${redirect}" ;;
  *"-X POST"*) printf 'HTTP/2 ${write}\\r\\nwww-authenticate: Bearer realm="shop"\\r\\n\\r\\n' ;;
  *"--cacert"*) printf 'HTTP/2 200\\r\\n${hsts}\\r\\ncontent-type: application/json\\r\\n\\r\\n' ;;
  *) exit ${untrusted} ;;
esac`,
  );
  const r = spawnSync(join(K8S, "scripts/kind-edge-check.sh"), [], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, KIND_CA_FILE: ca, EDGE_CHECK_BURST: "400" },
  });
  return { ...r, log: readFileSync(calls, "utf8") };
}

test("kind-edge-check.sh passes an edge that redirects, serves TLS with HSTS, refuses anonymous writes and limits a burst", () => {
  const r = check();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ok: http:\/\/ answers 301 -> https:\/\/localhost\/api\/products\?size=1/);
  assert.match(r.stdout, /ok: POST \/api\/products without a credential: 401/);
  assert.match(r.stdout, /burst of 400 to https:\/\/production.localhost: 300 x 200, 100 x 429/);
  // One client, one burst, at production's limit; the CA passed on every HTTPS request but the one that must fail.
  assert.match(r.log, /curl -s -m 10 --parallel --parallel-max 100 --cacert \S+ -w %\{http_code\}\\n -K /);
  assert.equal([...r.log.matchAll(/^curl .*https:\/\/localhost\/api\/products\?size=1$/gm)].filter((m) => !m[0].includes("--cacert")).length, 1);
});

test("kind-edge-check.sh fails on a redirect that is not a 301 to https", () => {
  const r = check({ redirect: "302 https://localhost/api/products?size=1" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /answered 302 -> 'https:\/\/localhost\/api\/products\?size=1', expected 301/);
  const plain = check({ redirect: "200 " });
  assert.equal(plain.status, 1, "serving the API over plain HTTP fails");
});

test("kind-edge-check.sh fails without HSTS, and when the certificate is trusted without the local CA", () => {
  const noHsts = check({ hsts: "x-frame-options: DENY" });
  assert.equal(noHsts.status, 1);
  assert.match(noHsts.stderr, /no HSTS header/);
  const publicCert = check({ untrusted: 0 });
  assert.equal(publicCert.status, 1);
  assert.match(publicCert.stderr, /without the local CA curl exited 0, expected 60/);
});

test("kind-edge-check.sh: a write without a credential must get 401 once the kind overlay's shop authenticates; skipped, and said, before", () => {
  const open = check({ write: 201 });
  assert.equal(open.status, 1);
  assert.match(open.stderr, /POST without a credential answered 'HTTP\/2 201', expected 401/);
  assert.match(open.log, /^kubectl kustomize k8s\/overlays\/kind$/m, "the committed manifests decide, not the running Deployment");
  const before = check({ auth: false, write: 201 });
  assert.equal(before.status, 0, before.stderr);
  assert.match(before.stdout, /skipped the 401 check: the kind overlay's shop sets no SHOP_API_KEYS_FILE/);
});

test("kind-edge-check.sh fails when no request of the burst gets 429, or none is served", () => {
  const unlimited = check({ served: 100000 });
  assert.equal(unlimited.status, 1);
  assert.match(unlimited.stderr, /no 429 past the per-client rate limit/);
  const closed = check({ served: 0 });
  assert.equal(closed.status, 1);
  assert.match(closed.stderr, /no request of the burst was served/);
});
