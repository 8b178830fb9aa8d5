// PostgreSQL run by CloudNativePG (k8s/components/cloudnative-pg, the kind overlay's default): every build with a
// Cluster has failover, continuous backup, a schedule, metrics Prometheus can scrape, and the shop on the primary.
// Facts about the operator come from the pinned release (k8s/tests/third-party/cloudnative-pg-v*/).
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { NAMESPACE_LABELS, OUTSIDE, OVERLAYS } from "./expectations.mjs";
import { clustersOf, shopUsesCluster } from "./lib/cnpg.mjs";
import { cnpgDir, cnpgFacts, makeVariable } from "./lib/crd.mjs";
import { allowedFlows } from "./lib/netpol.mjs";
import { envValue, parseImage, podOf } from "./lib/policy.mjs";
import { build, buildDirs, composeEnv, K8S, overlayOf, rel, REPO } from "./lib/render.mjs";
import { validateStrict } from "./lib/schema.mjs";
import { externalSecretKeys, plannedSecrets } from "./lib/secrets.mjs";

/** Problems of the CloudNativePG resources of one build (empty when it has no Cluster). */
export function cnpgProblems(objects) {
  const problems = [];
  const flows = allowedFlows(objects, OUTSIDE, NAMESPACE_LABELS);
  for (const c of clustersOf(objects)) {
    const name = c.metadata.name;
    const p = (msg) => problems.push(`Cluster/${name}: ${msg}`);
    const spec = c.spec ?? {};
    // Failover needs a standby to promote.
    if (!(spec.instances >= 2)) p(`instances ${spec.instances}: no standby to fail over to (want >= 2)`);
    // Image: pinned, and the PostgreSQL version compose runs.
    const { tag } = parseImage(spec.imageName ?? "");
    const composePg = parseImage(composeEnv().get("POSTGRES_IMAGE")).tag?.split("-")[0];
    if (!tag || tag === "latest") p(`imageName ${spec.imageName} is not pinned`);
    else if (tag.split("-")[0] !== composePg) p(`imageName ${spec.imageName}: PostgreSQL ${tag.split("-")[0]}, compose/.env runs ${composePg}`);
    if (spec.imagePullPolicy === "Always") p("imagePullPolicy Always");
    // Continuous backup: WAL archiving to an object store the instances may reach, with credentials of this build.
    const store = spec.backup?.barmanObjectStore;
    if (!store) p("no backup.barmanObjectStore: no WAL archive, no point-in-time recovery");
    else {
      const m = /^https?:\/\/([^:/]+):(\d+)/.exec(store.endpointURL ?? "");
      const svc = m && objects.find((o) => o.kind === "Service" && o.metadata.name === m[1]);
      const svcPort = svc?.spec.ports.find((x) => x.port === Number(m[2]));
      if (!svcPort) p(`endpointURL ${store.endpointURL} is not a Service port of this build`);
      else {
        const target = objects.find((o) => o.kind === "Deployment" && o.metadata.name === m[1]);
        const cport = podOf(target ?? {}).spec.containers?.flatMap((x) => x.ports ?? []).find((x) => x.name === svcPort.targetPort || x.containerPort === svcPort.targetPort);
        for (let i = 1; i <= spec.instances; i++) {
          if (!flows.has(`${name}-${i} -> ${m[1]}:${cport?.containerPort}/TCP`)) p(`instance ${name}-${i} may not reach the object store ${m[1]}:${cport?.containerPort}`);
        }
      }
      // The credentials are generated at deploy time for this build (k8s/scripts/kind-secrets.sh) or read from a secret
      // store (component external-secrets), never committed.
      for (const ref of [store.s3Credentials?.accessKeyId, store.s3Credentials?.secretAccessKey]) {
        if (![...plannedSecrets(objects), ...externalSecretKeys(objects)].includes(`${ref?.name} ${ref?.key}`)) p(`s3Credentials ${ref?.name}/${ref?.key} is neither generated for this build (k8s/scripts/secrets.list) nor an ExternalSecret's`);
      }
      // Recovery point: a WAL segment archived at least every 60 s (issue "Data safety"; the operator's default is 5min).
      const timeout = spec.postgresql?.parameters?.archive_timeout;
      const seconds = /^(\d+)(s|min)$/.exec(timeout ?? "");
      if (!seconds || Number(seconds[1]) * (seconds[2] === "min" ? 60 : 1) > 60) p(`archive_timeout ${timeout}: the recovery point objective is 60 s`);
    }
    const scheduled = objects.filter((o) => o.kind === "ScheduledBackup" && o.spec?.cluster?.name === name);
    if (scheduled.length === 0) p("no ScheduledBackup: no base backups, nothing to recover from");
    for (const s of scheduled) if ((s.spec.method ?? "barmanObjectStore") === "barmanObjectStore" && !store) p(`ScheduledBackup/${s.metadata.name} uses barmanObjectStore, which the Cluster lacks`);
    // Metrics: the instances' metrics port, reachable from Prometheus (no PodMonitor without prometheus-operator).
    if (spec.monitoring?.enablePodMonitor) p("enablePodMonitor: there is no prometheus-operator to read a PodMonitor");
    for (let i = 1; i <= spec.instances; i++) if (!flows.has(`prometheus -> ${name}-${i}:9187/TCP`)) p(`Prometheus may not scrape ${name}-${i}:9187`);
  }
  const orphans = objects.filter((o) => o.kind === "ScheduledBackup" && !clustersOf(objects).some((c) => c.metadata.name === o.spec?.cluster?.name));
  for (const o of orphans) problems.push(`ScheduledBackup/${o.metadata.name}: cluster ${o.spec?.cluster?.name} is not in this build`);
  return problems;
}

/** The shop Deployment's connection settings against the Cluster (lib/cnpg.mjs shopUsesCluster). */
export function shopProblems(objects) {
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const c = podOf(deploy).spec.containers.find((x) => x.name === "shop");
  return shopUsesCluster(objects, envValue(objects, c, "QUARKUS_DATASOURCE_JDBC_URL"), c.env);
}

const kind = build(join(K8S, "overlays/kind"));

test("the pinned CloudNativePG version (k8s/k8s.mk CNPG_VERSION) has its schemas and facts under k8s/tests/third-party", () => {
  const version = makeVariable("CNPG_VERSION");
  assert.match(version, /^\d+\.\d+\.\d+$/);
  for (const f of ["cluster.v1.json", "scheduledbackup.v1.json", "backup.v1.json", "release-facts.json"]) assert.ok(existsSync(join(cnpgDir(), f)), `${rel(cnpgDir())}/${f}`);
  // Its metric names, for the rules and dashboards (observability/tests/check_queries.mjs reads them).
  assert.ok(existsSync(join(REPO, `observability/tests/third-party/cloudnative-pg-v${version}/metrics.txt`)), `observability/tests/third-party/cloudnative-pg-v${version}/metrics.txt`);
  assert.match(cnpgFacts().source, new RegExp(`tag v${version.replaceAll(".", "\\.")}$`));
  assert.match(readFileSync(join(K8S, "tests/third-party/README.md"), "utf8"), new RegExp(`cloudnative-pg-v${version}`));
});

test("the default overlay runs PostgreSQL with CloudNativePG", () => {
  assert.equal(clustersOf(kind).length, 1);
  assert.equal(kind.some((o) => o.kind === "StatefulSet" && o.metadata.name === "postgres"), false, "the plain StatefulSet is replaced");
});

for (const dir of buildDirs().filter((d) => clustersOf(build(d)).length)) {
  describe(`build ${rel(dir)} (CloudNativePG)`, () => {
    const objects = build(dir);
    // An environment's instances are scraped by the stack in its own namespace: check them deployed side by side.
    const withStack = OVERLAYS[overlayOf(dir)].role === "app" ? [...build(join(K8S, "overlays/observability")), ...objects] : objects;
    test("failover, continuous backup, a schedule and metrics, all reachable through the NetworkPolicies", () => {
      assert.ok(clustersOf(withStack).length > 0);
      assert.deepEqual(cnpgProblems(withStack), []);
    });
    test("the shop connects to the read-write Service with the operator's application credentials", () => {
      assert.deepEqual(shopProblems(objects), []);
    });
  });
}

describe("the CloudNativePG checks fail on a planted change", () => {
  const planted = (edit, check = cnpgProblems) => {
    const copy = structuredClone(kind);
    const cluster = copy.find((o) => o.kind === "Cluster");
    edit(cluster.spec, copy);
    return check(copy).join("\n");
  };
  const shopEnv = (copy) => copy.find((o) => o.kind === "Deployment" && o.metadata.name === "shop").spec.template.spec.containers[0].env;
  const shopCm = (copy) => copy.find((o) => o.kind === "ConfigMap" && o.data?.QUARKUS_DATASOURCE_JDBC_URL).data;

  test("one instance, no backup, no schedule, a pod monitor", () => {
    assert.match(planted((s) => (s.instances = 1)), /instances 1: no standby/);
    assert.match(planted((s) => delete s.backup), /no backup.barmanObjectStore/);
    assert.match(planted((_, copy) => copy.splice(copy.findIndex((o) => o.kind === "ScheduledBackup"), 1)), /no ScheduledBackup/);
    assert.match(planted((s) => (s.monitoring.enablePodMonitor = true)), /enablePodMonitor/);
  });

  test("an object store the instances cannot reach, credentials that do not exist, archiving every 5 minutes", () => {
    assert.match(planted((s) => (s.backup.barmanObjectStore.endpointURL = "http://object-store:9001")), /endpointURL .* is not a Service port/);
    assert.match(planted((_, copy) => copy.splice(copy.findIndex((o) => o.kind === "NetworkPolicy" && o.metadata.name === "object-store"), 1)), /may not reach the object store/);
    assert.match(planted((s) => (s.backup.barmanObjectStore.s3Credentials.secretAccessKey.key = "secret")), /s3Credentials object-store\/secret is neither generated for this build/);
    assert.match(planted((s) => (s.postgresql.parameters.archive_timeout = "5min")), /archive_timeout 5min/);
  });

  test("an unpinned image or another PostgreSQL version", () => {
    assert.match(planted((s) => (s.imageName = "ghcr.io/cloudnative-pg/postgresql:latest")), /is not pinned/);
    assert.match(planted((s) => (s.imageName = "ghcr.io/cloudnative-pg/postgresql:16.9-system-trixie")), /PostgreSQL 16.9, compose\/.env runs 17.11/);
  });

  test("the shop on the read-only Service, on the old postgres Service, on another database, with its own Secret", () => {
    const jdbc = (url) => planted((_, copy) => (shopCm(copy).QUARKUS_DATASOURCE_JDBC_URL = url), shopProblems);
    assert.match(jdbc("jdbc:postgresql://shop-db-ro:5432/shop"), /connects to shop-db-ro, not to the read-write Service shop-db-rw/);
    assert.match(jdbc("jdbc:postgresql://postgres:5432/shop"), /connects to postgres, not to the read-write Service/);
    assert.match(jdbc("jdbc:postgresql://shop-db-rw:5432/app"), /database app, Cluster\/shop-db creates shop/);
    assert.match(planted((_, copy) => (shopEnv(copy)[1].valueFrom.secretKeyRef.name = "shop-db"), shopProblems), /QUARKUS_DATASOURCE_PASSWORD from shop-db\/password, want the operator's Secret shop-db-app\/password/);
  });

  test("the CRD schema rejects unknown fields, wrong enums and types (strict, as the API server)", () => {
    const cluster = structuredClone(kind.find((o) => o.kind === "Cluster"));
    cluster.spec.backup.barmanObjectStore.wal.compresion = "gzip";
    cluster.spec.backup.target = "standby";
    cluster.spec.instances = "2";
    cluster.metadata.uid = "x";
    const problems = validateStrict(cluster).join("\n");
    assert.match(problems, /unknown field \/spec\/backup\/barmanObjectStore\/wal\/compresion/);
    assert.match(problems, /\/spec\/backup\/target must be equal to one of the allowed values/);
    assert.match(problems, /\/spec\/instances must be integer/);
    assert.match(problems, /unknown field \/metadata\/uid/);
    const scheduled = structuredClone(kind.find((o) => o.kind === "ScheduledBackup"));
    delete scheduled.spec.schedule;
    assert.match(validateStrict(scheduled).join(), /must have required property 'schedule'/);
  });
});

describe("Prometheus finds the instances", () => {
  test("prometheus-k8s.yml keeps pods with the operator's instance label on the port named like the metrics port", () => {
    const config = parse(readFileSync(join(REPO, "observability/prometheus/prometheus-k8s.yml"), "utf8"));
    const job = config.scrape_configs.find((j) => j.job_name === "cnpg");
    assert.ok(job, "no job cnpg");
    const { instance } = cnpgFacts();
    // Prometheus turns a pod label into __meta_kubernetes_pod_label_<name with every other character as _>.
    const meta = (label) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
    const [roleLabel, roleValue] = Object.entries(instance.podLabels).find(([k]) => k.endsWith("/podRole"));
    const keep = job.relabel_configs.find((r) => r.action === "keep" && r.source_labels.includes(meta(roleLabel)));
    assert.ok(keep, `no keep rule on ${meta(roleLabel)}`);
    const values = keep.source_labels.map((l) => (l === meta(roleLabel) ? roleValue : l === "__meta_kubernetes_pod_container_port_name" ? "metrics" : ""));
    assert.match(values.join(";"), new RegExp(`^(?:${keep.regex})$`), `job cnpg keeps no pod labelled ${roleLabel}=${roleValue} on the port named metrics`);
    assert.equal(instance.ports.find((p) => p.name === "metrics").port, 9187);
  });
});

describe("the point-in-time restore manifest (runbook: Disaster recovery, On kind)", () => {
  const restore = [];
  const docs = readFileSync(join(K8S, "components/cloudnative-pg/pitr/shop-db-restore.yaml"), "utf8").split(/^---$/m).map((d) => parse(d)).filter(Boolean);
  restore.push(...docs);
  const cluster = restore.find((o) => o.kind === "Cluster");
  const live = kind.find((o) => o.kind === "Cluster");

  test("validates strictly against the schemas", () => {
    assert.ok(restore.length >= 2);
    assert.deepEqual(restore.flatMap(validateStrict), []);
  });

  test("the on-demand Backup (runbook: CnpgBackupTooOld) validates and backs up shop-db the way the schedule does", () => {
    const backup = parse(readFileSync(join(K8S, "components/cloudnative-pg/pitr/backup-now.yaml"), "utf8"));
    assert.deepEqual(validateStrict(backup), []);
    const scheduled = kind.find((o) => o.kind === "ScheduledBackup");
    assert.equal(backup.spec.cluster.name, live.metadata.name);
    assert.equal(backup.spec.method, scheduled.spec.method);
    assert.equal(backup.spec.target ?? live.spec.backup.target, live.spec.backup.target);
  });

  test("recovers from where shop-db archives, the same image, database and owner, to a target time", () => {
    const source = cluster.spec.externalClusters.find((e) => e.name === cluster.spec.bootstrap.recovery.source);
    assert.ok(source, "bootstrap.recovery.source names no externalClusters entry");
    const from = source.barmanObjectStore;
    const to = live.spec.backup.barmanObjectStore;
    assert.equal(from.serverName ?? source.name, live.metadata.name, "serverName is the folder of shop-db in the bucket");
    for (const k of ["destinationPath", "endpointURL", "s3Credentials"]) assert.deepEqual(from[k], to[k], k);
    assert.equal(cluster.spec.imageName, live.spec.imageName);
    assert.equal(cluster.spec.bootstrap.recovery.database, live.spec.bootstrap.initdb.database);
    assert.equal(cluster.spec.bootstrap.recovery.owner, live.spec.bootstrap.initdb.owner);
    assert.equal(cluster.spec.bootstrap.recovery.recoveryTarget.targetTime, "RECOVERY_TARGET_TIME", "the runbook's sed replaces this placeholder");
  });

  test("its NetworkPolicies let the operator, the object store, Prometheus and the shop reach it, next to the live cluster", () => {
    const objects = [...kind, ...restore];
    const flows = allowedFlows(objects, OUTSIDE, NAMESPACE_LABELS);
    for (const f of ["shop-db-restore-1 -> object-store:9000/TCP", "cnpg-operator -> shop-db-restore-1:8000/TCP", "cnpg-operator -> shop-db-restore-1:5432/TCP",
      "prometheus -> shop-db-restore-1:9187/TCP", "shop -> shop-db-restore-1:5432/TCP", "shop-db-restore-1 -> kube-api-service:443/TCP"]) {
      assert.ok(flows.has(f), f);
    }
    assert.equal(flows.has("shop-db-restore-1 -> shop-db-1:5432/TCP"), false, "the restore does not talk to the live cluster");
  });
});
