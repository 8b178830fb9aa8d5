// Stub commands for the offline tests of the scripts under k8s/scripts: a fresh folder to put first on PATH, and
// executables in it that log each call to calls.log and then run a bash body.
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A stub folder: { dir, calls, script(name, body) }. */
export function stubFolder(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const calls = join(dir, "calls.log");
  const script = (name, body) => {
    writeFileSync(join(dir, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${calls}"\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  return { dir, calls, script };
}
