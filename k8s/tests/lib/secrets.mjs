// What k8s/scripts/kind-secrets.sh generates for a build (k8s/scripts/secrets.list): its `plan` run on the build's
// objects, written back as YAML. The tests ask the script itself, so they check the list the deploy really uses.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { stringify } from "yaml";
import { K8S } from "./render.mjs";

const cache = new WeakMap();
/** "secret key" pairs the generator creates for these objects (a Set). */
export function plannedSecrets(objects) {
  if (!cache.has(objects)) {
    const text = objects.map((o) => stringify(o)).join("---\n");
    const out = execFileSync(join(K8S, "scripts/kind-secrets.sh"), ["plan"], { input: text, encoding: "utf8" });
    cache.set(objects, new Set(out.split("\n").filter(Boolean)));
  }
  return cache.get(objects);
}

/** "secret key" pairs the ExternalSecrets of a build produce (k8s/components/external-secrets). */
export function externalSecretKeys(objects) {
  return new Set(objects.filter((o) => o.kind === "ExternalSecret").flatMap((e) => (e.spec?.data ?? []).map((d) => `${e.spec?.target?.name ?? e.metadata.name} ${d.secretKey}`)));
}
