// k8s/scripts/kind-failover-drill.sh offline: kubectl, curl and make are stubs on PATH (a cluster whose primary
// moves from shop-db-1 to shop-db-2 after the delete, an API that fails for a while, a load run of a second), and the
// drill must pass, fail on a failover slower than the bound, and fail when no new primary appears.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { K8S } from "./lib/render.mjs";
import { stubFolder } from "./lib/stubs.mjs";

/**
 * `downSeconds`: how long after the delete the API fails before it answers again; `promote`: whether a standby
 * becomes the primary; `primaryBefore`: what the Cluster reports first.
 */
function drill({ downSeconds, promote = true, primaryBefore = "shop-db-1", bound = 5 }) {
  const { dir, calls, script } = stubFolder("failover-");
  const deleted = join(dir, "deleted");
  script(
    "kubectl",
    `case "$*" in
  *"get cluster shop-db -o jsonpath"*) if [ -e "${deleted}" ] && ${promote}; then echo -n shop-db-2; else echo -n "${primaryBefore}"; fi ;;
  *"delete pod"*) date +%s.%N > "${deleted}" ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac`,
  );
  // curl -w '%{http_code}': 200 before the delete; after it, 503 for downSeconds, then 200.
  script(
    "curl",
    `if [ ! -e "${deleted}" ]; then echo -n 200; exit 0; fi
if awk -v d="$(cat "${deleted}")" -v now="$(date +%s.%N)" 'BEGIN { exit !(now < d + ${downSeconds}) }'; then echo -n 503; else echo -n 200; fi`,
  );
  script("make", "sleep 1");
  const log = join(dir, "drill.txt");
  const result = spawnSync(join(K8S, "scripts/kind-failover-drill.sh"), [], {
    encoding: "utf8",
    env: {
      ...process.env, PATH: `${dir}:${process.env.PATH}`, MAKE: join(dir, "make"), FAILOVER_LOG: log,
      FAILOVER_WARMUP_SECONDS: "0", FAILOVER_PROBE_INTERVAL: "0.05", FAILOVER_BOUND_SECONDS: String(bound),
    },
  });
  return { result, calls: readFileSync(calls, "utf8"), log: result.status === 0 || result.status === 1 ? readFileSync(log, "utf8") : "" };
}

test("kind-failover-drill.sh deletes the primary under load and reports the time until the API serves again", () => {
  const { result, calls, log } = drill({ downSeconds: 0.3 });
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.match(calls, /^make load PROFILE=load RPS=50 DURATION=3m BASE_URL=https:\/\/localhost$/m);
  assert.match(calls, /^kubectl --context kind-shop -n shop delete pod shop-db-1 --wait=false$/m);
  assert.match(log, /new primary shop-db-2; API serving again \d+\.\ds after the deletion \(first failed probe at \+\d+\.\ds, \d+ failed probes\)/);
  assert.match(log, /passed: \d+\.\ds <= 5s/);
});

test("kind-failover-drill.sh fails when the API comes back later than the bound", () => {
  // Down for 3 s against a 2 s bound; the drill keeps probing up to twice the bound to report the overshoot.
  const { result, log } = drill({ downSeconds: 3, bound: 2 });
  assert.match(log, /FAILED: 3\.\ds exceeds the bound of 2s/);
  assert.equal(result.status, 1);
});

test("kind-failover-drill.sh fails when no standby is promoted", () => {
  const { result, log } = drill({ downSeconds: 0, promote: false, bound: 1 });
  assert.match(log, /FAILED: no new primary serving the API within 2s \(primary now: shop-db-1\)/);
  assert.equal(result.status, 1);
});

test("kind-failover-drill.sh refuses to start without a primary", () => {
  const { result } = drill({ downSeconds: 0, primaryBefore: "" });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /no primary reported for cluster shop-db/);
});
