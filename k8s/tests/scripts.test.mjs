// k8s/scripts/kind-load.sh offline: kubectl and make are replaced by stubs on PATH (a cluster whose HPA goes
// 2 -> 4 replicas, a load run of one second), and the timeline it writes must be what the CI's reader
// (.github/scripts/hpa-timeline.sh) expects.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { K8S, REPO } from "./lib/render.mjs";

function stubs(dir, loadExit) {
  const counter = join(dir, "count");
  writeFileSync(counter, "0");
  // kubectl stub: the HPA reports 2 replicas for the first two samples, then 4 (desired 4), CPU 85 %.
  writeFileSync(
    join(dir, "kubectl"),
    `#!/usr/bin/env bash
case "$*" in
  *"get deployment shop -o jsonpath"*) echo -n 2 ;;
  *"get deployment shop"*) exit 0 ;;
  *"get horizontalpodautoscalers -o name"*) echo horizontalpodautoscaler.autoscaling/shop ;;
  *"get horizontalpodautoscaler.autoscaling/shop"*)
    n=$(cat "${counter}"); echo $((n + 1)) > "${counter}"
    if [ "$n" -lt 2 ]; then echo -n "2 2 40"; else echo -n "4 4 85"; fi ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
`,
  );
  writeFileSync(join(dir, "make"), `#!/usr/bin/env bash\necho "make $*" >> "${join(dir, "make.log")}"\nsleep 1\nexit ${loadExit}\n`);
  chmodSync(join(dir, "kubectl"), 0o755);
  chmodSync(join(dir, "make"), 0o755);
}

function run(loadExit) {
  const dir = mkdtempSync(join(tmpdir(), "kind-load-"));
  stubs(dir, loadExit);
  const log = join(dir, "timeline.txt");
  const result = spawnSync(join(K8S, "scripts/kind-load.sh"), [], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, MAKE: join(dir, "make"), KIND_LOAD_LOG: log, KIND_LOAD_INTERVAL: "0.2", KIND_LOAD_TAIL_SECONDS: "0.5" },
  });
  return { dir, log, result };
}

test("kind-load.sh runs the stress profile through the ingress and records a timeline the CI can read", () => {
  const { dir, log, result } = run(0);
  assert.equal(result.status, 0, result.stderr);
  assert.match(readFileSync(join(dir, "make.log"), "utf8"), /^make load PROFILE=stress BASE_URL=http:\/\/localhost$/m);
  const timeline = readFileSync(log, "utf8");
  assert.match(timeline, /^\d\d:\d\d:\d\d +2 +2 +2 +40$/m);
  assert.match(timeline, /^\d\d:\d\d:\d\d +4 +4 +2 +85$/m);
  assert.match(timeline, /^kind-load: peak replicas 4;/m);
  assert.match(result.stdout, /peak replicas 4/, "the timeline is printed to the console too");
  const reader = join(REPO, ".github/scripts/hpa-timeline.sh");
  if (existsSync(reader)) {
    const out = execFileSync(reader, ["check", log, "2"], { encoding: "utf8" });
    assert.match(out, /peak 4 replicas/);
  }
});

test("kind-load.sh fails when the load run fails, after recording the timeline", () => {
  const { log, result } = run(3);
  assert.equal(result.status, 3);
  assert.match(readFileSync(log, "utf8"), /load finished \(exit 3\)/);
});
