// k8s/scripts/kind-canary.sh offline: kubectl and curl are stubs on PATH. The kubectl stub plays a Rollout that,
// once the Deployment is patched, goes through its canary steps and then either aborts (back to the stable hash) or
// is promoted; the script must patch the right revision, print the timeline and judge the outcome against BAD.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeVariable, rolloutsFacts } from "./lib/crd.mjs";
import { K8S } from "./lib/render.mjs";
import { stubFolder } from "./lib/stubs.mjs";

/**
 * `outcome`: what the stub Rollout does after the patch ("abort" | "promote" | "stuck"); `phaseBefore`: its phase
 * before the run.
 */
function canary({ bad, outcome, phaseBefore = "Healthy", timeout = 5 }) {
  const { dir, calls, script } = stubFolder("kind-canary-");
  const patched = join(dir, "patched");
  const samples = join(dir, "samples");
  // States after the patch, one per sample: Progressing through steps 0..3, then the outcome.
  const after = {
    abort: ["Progressing|1|newhash|stablehash||3|1|shop-newhash-1|Running|", "Degraded|1|newhash|stablehash|true|2|0|shop-newhash-1|Failed|RolloutAborted: Metric \"error-ratio\" assessed Failed"],
    promote: ["Progressing|1|newhash|stablehash||3|1|shop-newhash-1|Running|", "Progressing|3|newhash|stablehash||3|2|shop-newhash-3|Running|", "Healthy|4|newhash|newhash||2|2|shop-newhash-3|Successful|"],
    stuck: ["Progressing|1|newhash|stablehash||3|1|shop-newhash-1|Running|"],
    // Degraded without an abort (pods that never become ready): not the analysis' verdict.
    degraded: ["Degraded|1|newhash|stablehash||2|1|||ProgressDeadlineExceeded: ReplicaSet has timed out progressing"],
  }[outcome];
  const cases = after.map((s, i) => `    ${i}) echo -n '${s}' ;;`).join("\n");
  script(
    "kubectl",
    `case "$*" in
  *"get rollout shop -o jsonpath={.status.phase}"*)
    if [ ! -e "${patched}" ]; then echo -n '${phaseBefore}|4|stablehash|stablehash||2|2|||'; exit 0; fi
    n=$(cat "${samples}" 2>/dev/null || echo 0); echo $((n + 1)) > "${samples}"
    case "$n" in
${cases}
      *) echo -n '${after[after.length - 1]}' ;;
    esac ;;
  *"get rollout shop -o jsonpath={range .spec.strategy.canary.steps"*) echo -n xxxx ;;
  *"patch deployment shop --type=strategic -p "*) touch "${patched}" ;;
  *"get analysisruns -l rollouts-pod-template-hash=newhash"*) echo "shop-newhash-1 Failed  error-ratio=Failed [0.31 0.52 ]" ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac`,
  );
  script("curl", `echo 200`);
  const log = join(dir, "timeline.txt");
  const result = spawnSync(join(K8S, "scripts/kind-canary.sh"), ["run"], {
    encoding: "utf8",
    env: {
      ...process.env, PATH: `${dir}:${process.env.PATH}`, BAD: String(bad), ARGO_ROLLOUTS_VERSION: "9.9.9", CANARY_LOG: log,
      CANARY_INTERVAL: "0.1", CANARY_TRAFFIC_PAUSE: "0.05", CANARY_TIMEOUT: String(timeout),
    },
  });
  return { result, calls: existsSync(calls) ? readFileSync(calls, "utf8") : "", log: existsSync(log) ? readFileSync(log, "utf8") : "" };
}

test("kind-canary.sh BAD=1 releases a revision with injected errors and passes when the Rollout aborts by itself", () => {
  const { result, calls, log } = canary({ bad: 1, outcome: "abort" });
  assert.equal(result.status, 0, result.stderr + result.stdout);
  const patch = /patch deployment shop --type=strategic -p (.*)$/m.exec(calls)[1];
  const container = JSON.parse(patch).spec.template.spec.containers[0];
  assert.deepEqual(container, { name: "shop", env: [{ name: "SHOP_CHAOS_ERROR_RATE", value: "0.5" }] });
  assert.match(JSON.parse(patch).spec.template.metadata.annotations["shopwatch.dev/canary-run"], /^\d{8}T\d{6}Z$/);
  assert.match(calls, /^kubectl --context kind-shop -n shop-production get rollout shop/m);
  assert.match(log, /stable ReplicaSet hash stablehash; 4 canary steps/);
  assert.match(log, /Progressing +1\/4 +newhash .*shop-newhash-1 Running/);
  assert.match(log, /kind-canary: aborted after \d+s \(RolloutAborted: Metric "error-ratio" assessed Failed\)/);
  assert.match(log, /analysis: shop-newhash-1 Failed {2}error-ratio=Failed \[0\.31 0\.52 \]/);
  assert.match(log, /traffic: \d+ requests, 0 not 2xx-4xx/);
  assert.match(log, /passed: BAD=1 was aborted/);
  assert.match(result.stdout, /passed: BAD=1 was aborted/, "the timeline is printed to the console too");
});

test("kind-canary.sh BAD=0 removes the fault and passes when the canary is promoted", () => {
  const { result, calls, log } = canary({ bad: 0, outcome: "promote", phaseBefore: "Degraded" });
  assert.equal(result.status, 0, result.stderr + result.stdout);
  const patch = JSON.parse(/patch deployment shop --type=strategic -p (.*)$/m.exec(calls)[1]);
  assert.deepEqual(patch.spec.template.spec.containers[0].env, [{ name: "SHOP_CHAOS_ERROR_RATE", $patch: "delete" }]);
  assert.match(log, /Progressing +3\/4/);
  assert.match(log, /kind-canary: promoted after \d+s/);
});

test("kind-canary.sh fails when the outcome is the other one, or none", () => {
  let run = canary({ bad: 1, outcome: "promote" });
  assert.equal(run.result.status, 1);
  assert.match(run.log, /FAILED: expected the canary to be aborted, it was promoted/);
  run = canary({ bad: 0, outcome: "abort" });
  assert.equal(run.result.status, 1);
  assert.match(run.log, /FAILED: expected the canary to be promoted, it was aborted/);
  run = canary({ bad: 1, outcome: "degraded", timeout: 1 });
  assert.equal(run.result.status, 1);
  assert.match(run.log, /FAILED: expected the canary to be aborted, it was undecided after 1s/);
  run = canary({ bad: 0, outcome: "stuck", timeout: 1 });
  assert.equal(run.result.status, 1);
  assert.match(run.log, /FAILED: expected the canary to be promoted, it was undecided after 1s/);
});

test("kind-canary.sh refuses an unsettled Rollout and a BAD other than 0 or 1", () => {
  let run = canary({ bad: 1, outcome: "abort", phaseBefore: "Progressing" });
  assert.equal(run.result.status, 1);
  assert.match(run.result.stderr, /the Rollout is Progressing, not settled/);
  assert.doesNotMatch(run.calls, /patch deployment/);
  run = canary({ bad: 2, outcome: "abort" });
  assert.equal(run.result.status, 2);
  assert.match(run.result.stderr, /BAD must be 0 or 1, not '2'/);
});

test("kind-canary.sh install applies the pinned release manifest server-side into argo-rollouts and waits for the controller", () => {
  const { dir, calls, script } = stubFolder("kind-rollouts-");
  script("kubectl", 'case "$*" in *"-o yaml"*) echo "kind: Namespace" ;; *) cat >/dev/null 2>&1 || true ;; esac');
  const version = makeVariable("ARGO_ROLLOUTS_VERSION");
  const result = spawnSync(join(K8S, "scripts/kind-canary.sh"), ["install"], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ARGO_ROLLOUTS_VERSION: version },
  });
  assert.equal(result.status, 0, result.stderr);
  const log = readFileSync(calls, "utf8");
  const facts = rolloutsFacts();
  assert.ok(log.includes(`kubectl --context kind-shop apply --server-side -n ${facts.installManifest.namespace} -f ${facts.installManifest.url}`), log);
  assert.match(log, new RegExp(`kubectl --context kind-shop -n ${facts.installManifest.namespace} rollout status deployment/${facts.controller.deployment} --timeout=300s`));
  assert.match(log, /create namespace argo-rollouts --dry-run=client -o yaml/);
});
