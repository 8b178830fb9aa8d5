// promtool's syntax check of a Prometheus configuration that discovers Kubernetes pods: Debian's promtool (2.42) is
// built without Kubernetes discovery and predates scrape_protocols (2.49), so those are swapped for a static target
// and dropped (tests check them separately). Throws with promtool's message when the configuration is refused.
// promtool: https://prometheus.io/docs/prometheus/latest/command-line/promtool/
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function promtoolCheckConfig(config) {
  const copy = structuredClone(config);
  for (const job of copy.scrape_configs ?? []) {
    delete job.scrape_protocols;
    if (job.kubernetes_sd_configs) {
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ["placeholder:9000"] }];
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "promtool-"));
  writeFileSync(join(dir, "prometheus.yml"), JSON.stringify(copy));
  execFileSync("promtool", ["check", "config", "--syntax-only", join(dir, "prometheus.yml")], { stdio: "pipe" });
}
