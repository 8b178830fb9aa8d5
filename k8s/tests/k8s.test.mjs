// Offline proof of the Kubernetes manifests (`make test-k8s`): every overlay and every combination under
// k8s/tests builds, validates strictly against the Kubernetes schemas and passes the policy checks.
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import {
  API_CLIENTS,
  APP_OVERLAYS,
  COMBINATION_EXEMPTIONS,
  COMPOSE_ONLY_JOBS,
  expectedEnvironmentFlows,
  expectedFlows,
  IP_BLOCK_POLICIES,
  KIND_ONLY_IMAGES,
  NAMESPACE_LABELS,
  OUTSIDE,
  OVERLAYS,
} from "./expectations.mjs";
import { endpointIds, environmentCluster, environmentOutside } from "./lib/environments.mjs";
import { allowedFlows, policyShapes } from "./lib/netpol.mjs";
import {
  autoscalingAndBudget,
  connectionBudget,
  envValue,
  javaOptsInEffect,
  pinnedImages,
  podOf,
  probesAndResources,
  restrictedPss,
  serviceAccounts,
  servicesSelectPods,
  shopMatchesService,
  workloads,
} from "./lib/policy.mjs";
import { appProperties, build, buildDirs, composeEnv, K8S, overlayOf, pomVersion, rel, REPO } from "./lib/render.mjs";
import { deriveSizing, loadCapacity } from "./lib/sizing.mjs";
import { promtoolCheckConfig } from "./lib/promtool.mjs";
import { validateStrict } from "./lib/schema.mjs";

const props = appProperties();
const capacity = loadCapacity(REPO);
const env = composeEnv();
const envImages = [...env].filter(([k]) => k.endsWith("_IMAGE")).map(([, v]) => v);

/**
 * Host:port references in the ConfigMaps a workload reads, as "workload -> service:port". A URL in Prometheus'
 * configuration (`http://host:port/path`, the black-box probe targets) is fetched by the blackbox exporter, not by
 * Prometheus: its reader is blackbox.
 */
function configReferences(objects) {
  const refs = [];
  const names = new Set(objects.filter((o) => o.kind === "Service").map((s) => s.metadata.name));
  const pattern = /(:\/\/)?\b([a-z][a-z0-9-]*):(\d{2,5})\b/g;
  for (const w of workloads(objects)) {
    const { spec } = podOf(w);
    const cms = new Set([
      ...(spec.volumes ?? []).map((v) => v.configMap?.name).filter(Boolean),
      ...(spec.containers ?? []).flatMap((c) => (c.envFrom ?? []).map((e) => e.configMapRef?.name)).filter(Boolean),
    ]);
    for (const cm of objects.filter((o) => o.kind === "ConfigMap" && cms.has(o.metadata.name))) {
      for (const text of Object.values(cm.data ?? {})) {
        for (const [, url, host, port] of text.matchAll(pattern)) {
          const from = url && w.metadata.name === "prometheus" ? "blackbox" : w.metadata.name;
          if (names.has(host)) refs.push({ from, host, port: Number(port) });
        }
      }
    }
  }
  return refs;
}

test("the builds are the overlays and every combination folder under k8s/tests", () => {
  const overlays = readdirSync(join(K8S, "overlays"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.deepEqual([...overlays].sort(), Object.keys(OVERLAYS).sort(), "k8s/overlays and OVERLAYS in expectations.mjs");
  const combos = readdirSync(join(K8S, "tests"), { withFileTypes: true }).filter((d) => d.isDirectory() && !["fixtures", "lib", "node_modules", "policy", "third-party"].includes(d.name));
  assert.ok(combos.length >= 3, `only ${combos.length} combinations under k8s/tests`);
  for (const d of combos) assert.ok(Object.hasOwn(OVERLAYS, overlayOf(d.name)), `k8s/tests/${d.name}: not named <overlay>-<component>`);
  assert.deepEqual(buildDirs().map(rel), [...overlays.sort().map((o) => `k8s/overlays/${o}`), ...combos.map((d) => `k8s/tests/${d.name}`).sort()]);
});

for (const dir of buildDirs()) {
  const overlay = OVERLAYS[overlayOf(dir)];
  const { role, namespace } = overlay;
  describe(`build ${rel(dir)} (${role}, namespace ${namespace})`, () => {
    const objects = build(dir);
    const shop = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
    // The stack's and the environments' objects deployed with it (the environments bind and reach each other).
    const cluster = role === "platform" ? objects : environmentCluster(dir);

    test(`kubectl kustomize renders objects into the namespace ${namespace}`, () => {
      assert.ok(objects.length > 0);
      const stray = objects.filter((o) => !["Namespace"].includes(o.kind) && o.metadata.namespace !== namespace);
      assert.deepEqual(stray.map((o) => `${o.kind}/${o.metadata.name}`), []);
      assert.equal(Boolean(shop), role !== "stack", `the shop is deployed by a ${role} build`);
      assert.equal(objects.some((o) => o.kind === "Deployment" && o.metadata.name === "prometheus"), role !== "app", `the stack is deployed by a ${role} build`);
    });

    test("every object validates against its schema, unknown fields rejected", () => {
      assert.deepEqual(objects.flatMap(validateStrict), []);
    });

    test("the namespace enforces the restricted Pod Security Standard", () => {
      const ns = objects.find((o) => o.kind === "Namespace" && o.metadata.name === namespace);
      assert.equal(ns?.metadata?.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
    });

    test("every workload meets the restricted Pod Security Standard with a read-only root filesystem", () => {
      assert.deepEqual(restrictedPss(objects), []);
    });

    test("every container has readiness and liveness probes, requests and limits", () => {
      assert.deepEqual(probesAndResources(objects), []);
    });

    test("images are pinned, and equal to compose/.env where compose runs them too", () => {
      assert.deepEqual(pinnedImages(objects, envImages, KIND_ONLY_IMAGES), []);
      if (shop) assert.equal(podOf(shop).spec.containers[0].image, `shop:${pomVersion()}`, "shop image tag = pom version");
      assert.equal(env.get("SHOP_IMAGE"), `shop:${pomVersion()}`, "compose/.env SHOP_IMAGE = pom version");
    });

    test("every Service selects the pods of a workload, on ports those pods declare", () => {
      assert.deepEqual(servicesSelectPods(objects), []);
    });

    test("API tokens only where the API is used; RBAC namespaced and read-only", () => {
      assert.deepEqual(serviceAccounts(objects, API_CLIENTS, cluster), []);
    });

    test("NetworkPolicies have no allow-all peers, no 0.0.0.0/0, ipBlock only for the API server, namespaces by name", () => {
      assert.deepEqual(policyShapes(objects, IP_BLOCK_POLICIES), []);
    });

    if (role === "platform") {
      test("NetworkPolicies allow exactly the needed flows", () => {
        const allowed = [...allowedFlows(objects, OUTSIDE, NAMESPACE_LABELS)].sort();
        assert.deepEqual(allowed, expectedFlows(objects));
      });
    } else {
      test("NetworkPolicies allow exactly the needed flows, with observability, staging and production side by side", () => {
        const outside = environmentOutside();
        const allowed = [...allowedFlows(cluster, outside, NAMESPACE_LABELS)].sort();
        assert.deepEqual(allowed, expectedEnvironmentFlows(cluster, endpointIds(cluster, outside)));
      });
    }

    if (role !== "app") {
      test("Grafana keeps its pinned image's data-source plugins (GF_PLUGINS_PREINSTALL_AUTO_UPDATE=false)", () => {
        const grafana = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "grafana");
        assert.equal(envValue(objects, podOf(grafana).spec.containers[0], "GF_PLUGINS_PREINSTALL_AUTO_UPDATE"), "false");
      });

      test("every host:port in the shared config files is a Service port the NetworkPolicies let the reader reach", () => {
        const refs = configReferences(objects);
        assert.ok(refs.length >= 8, `only ${refs.length} references found`);
        const allowed = allowedFlows(objects, OUTSIDE, NAMESPACE_LABELS);
        const problems = [];
        for (const { from, host, port } of refs) {
          const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === host);
          const svcPort = svc.spec.ports.find((p) => p.port === port);
          if (!svcPort) {
            problems.push(`${from} uses ${host}:${port}, Service ${host} has no port ${port}`);
            continue;
          }
          const target = objects.find((o) => ["Deployment", "StatefulSet"].includes(o.kind) && o.metadata.name === host);
          const cport = podOf(target).spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === svcPort.targetPort || p.containerPort === svcPort.targetPort);
          if (from !== host && !allowed.has(`${from} -> ${host}:${cport?.containerPort}/TCP`)) problems.push(`${from} -> ${host}:${port} is blocked`);
        }
        assert.deepEqual(problems, []);
      });
    }

    if (shop) {
      const floor = deriveSizing(capacity, 1, overlay.environment).minReplicas;

      test("the shop Deployment agrees with application.properties (ports, probes, shutdown, /tmp)", () => {
        assert.deepEqual(shopMatchesService(objects, props), []);
      });

      test("JAVA_OPTS is what the JVM in the image really uses", () => {
        assert.deepEqual(javaOptsInEffect(objects, readFileSync(join(REPO, "src/main/docker/Dockerfile"), "utf8")), []);
      });

      test(`one autoscaler with explicit behavior; a PodDisruptionBudget only with an availability minimum (here ${floor})`, () => {
        assert.deepEqual(autoscalingAndBudget(objects, floor), []);
      });

      test("all connection pools at maximum scale fit PostgreSQL's max_connections", () => {
        assert.deepEqual(connectionBudget(objects, props, capacity.sizing), []);
      });
    }
  });
}

describe("observability/kustomization.yaml", () => {
  const kustomization = parse(readFileSync(join(REPO, "observability/kustomization.yaml"), "utf8"));
  const listed = new Set(kustomization.configMapGenerator.flatMap((g) => g.files.map((f) => f.split("=").pop())));
  const CONFIG_DIRS = ["prometheus/rules", "grafana/dashboards", "grafana/provisioning/datasources", "grafana/provisioning/dashboards", "loki", "tempo", "alloy", "prometheus"];
  const CONFIG_FILE = /\.(ya?ml|json|alloy)$/;

  test("every config file is in a ConfigMap, directly or through its -k8s sibling", () => {
    const missing = [];
    const checked = new Set();
    for (const dir of CONFIG_DIRS) {
      for (const name of readdirSync(join(REPO, "observability", dir), { withFileTypes: true })) {
        if (!name.isFile() || !CONFIG_FILE.test(name.name)) continue;
        checked.add(dir);
        const path = `${dir}/${name.name}`;
        const sibling = path.replace(/(\.[a-z]+)$/, "-k8s$1");
        const isSibling = /-k8s\.[a-z]+$/.test(path);
        if (!listed.has(path) && !listed.has(sibling) && !(isSibling && listed.has(path))) missing.push(path);
      }
    }
    assert.deepEqual(CONFIG_DIRS.filter((d) => !checked.has(d)), [], "config folders without a config file");
    assert.deepEqual(missing, []);
  });

  test("no ConfigMap exceeds 900 KiB (the API server's limit is 1 MiB)", () => {
    const objects = build(join(K8S, "overlays/kind"));
    const big = objects.filter((o) => o.kind === "ConfigMap" && JSON.stringify(o.data ?? {}).length > 900 * 1024);
    assert.deepEqual(big.map((o) => o.metadata.name), []);
  });
});

describe("observability/prometheus/prometheus-k8s.yml", () => {
  test("promtool accepts it (kubernetes_sd_configs swapped for static targets: Debian's build lacks that SD)", () => {
    // scrape_protocols is checked by the test below instead (lib/promtool.mjs drops it for Debian's promtool 2.42).
    promtoolCheckConfig(parse(readFileSync(join(REPO, "observability/prometheus/prometheus-k8s.yml"), "utf8")));
  });

  test("the shop job asks for OpenMetrics first (exemplars) and keeps the compose label `service`", () => {
    const config = parse(readFileSync(join(REPO, "observability/prometheus/prometheus-k8s.yml"), "utf8"));
    const pods = config.scrape_configs.find((j) => j.job_name === "kubernetes-pods");
    assert.equal(pods.scrape_protocols[0], "OpenMetricsText1.0.0");
    assert.ok(pods.relabel_configs.some((r) => r.target_label === "service"));
    const compose = parse(readFileSync(join(REPO, "observability/prometheus/prometheus.yml"), "utf8"));
    assert.deepEqual(config.global, compose.global, "same global settings as compose");
    assert.deepEqual(config.storage, compose.storage, "same exemplar storage as compose");
  });

  test("every compose job name is produced on kind too (prometheus.io/job annotations or a fixed job)", () => {
    const compose = parse(readFileSync(join(REPO, "observability/prometheus/prometheus.yml"), "utf8"));
    const kindConfig = parse(readFileSync(join(REPO, "observability/prometheus/prometheus-k8s.yml"), "utf8"));
    const composeJobs = compose.scrape_configs.map((j) => j.job_name);
    // With CloudNativePG (the default overlay) the instances' own exporter (job cnpg) replaces postgres-exporter;
    // the plain StatefulSet build keeps the compose job.
    for (const [dir, replaced] of [["overlays/kind", { "postgres-exporter": "cnpg" }], ["tests/kind-plain-postgres", {}]]) {
      const objects = build(join(K8S, dir));
      // Jobs prometheus-k8s.yml defines itself (prometheus, kube-state-metrics, blackbox, cnpg), plus the annotated pods.
      const kindJobs = new Set(kindConfig.scrape_configs.map((j) => j.job_name).filter((j) => j !== "kubernetes-pods"));
      for (const w of workloads(objects)) {
        const job = podOf(w).meta.annotations?.["prometheus.io/job"];
        if (job) kindJobs.add(job);
      }
      for (const [composeJob, kindJob] of Object.entries(replaced)) if (kindJobs.has(kindJob)) kindJobs.add(composeJob);
      assert.deepEqual(composeJobs.filter((j) => !kindJobs.has(j) && !Object.hasOwn(COMPOSE_ONLY_JOBS, j)), [], dir);
    }
    assert.deepEqual(Object.keys(COMPOSE_ONLY_JOBS).filter((j) => !composeJobs.includes(j)), [], "COMPOSE_ONLY_JOBS names jobs compose no longer has");
  });
});

describe("kube-state-metrics", () => {
  test("exports every kube_* family the dashboards and rules use", () => {
    const objects = build(join(K8S, "overlays/kind"));
    const ksm = podOf(objects.find((o) => o.kind === "Deployment" && o.metadata.name === "kube-state-metrics")).spec.containers[0];
    const resources = new Set((ksm.args.find((a) => a.startsWith("--resources=")) ?? "").slice("--resources=".length).split(","));
    const texts = [
      ...readdirSync(join(REPO, "observability/grafana/dashboards")).map((f) => `observability/grafana/dashboards/${f}`),
      ...readdirSync(join(REPO, "observability/prometheus/rules")).map((f) => `observability/prometheus/rules/${f}`),
    ].map((f) => [f, readFileSync(join(REPO, f), "utf8")]);
    const missing = [];
    let used = 0;
    for (const [file, text] of texts) {
      for (const [, kind] of text.matchAll(/\bkube_([a-z]+)_[a-z_]+/g)) {
        used++;
        if (!resources.has(`${kind}s`)) missing.push(`${file}: kube_${kind}_* needs --resources=${kind}s`);
      }
    }
    assert.ok(used > 0, "no kube_* family found in the dashboards and rules: the check would pass on nothing");
    assert.deepEqual([...new Set(missing)], []);
  });
});

describe("k8s/kind/cluster.yaml", () => {
  const cluster = parse(readFileSync(join(K8S, "kind/cluster.yaml"), "utf8"));
  test("one control plane labelled ingress-ready with 127.0.0.1:80/443 on the edge's node ports, two workers, pinned images", () => {
    const roles = cluster.nodes.map((n) => n.role);
    assert.deepEqual(roles, ["control-plane", "worker", "worker"]);
    const cp = cluster.nodes[0];
    assert.equal(cp.labels?.["ingress-ready"], "true");
    // The Service of k8s/edge/traefik.yaml: its node ports for 80 and 443.
    const svc = build(join(K8S, "edge")).find((o) => o.kind === "Service" && o.metadata.name === "traefik");
    const nodePort = (port) => svc.spec.ports.find((p) => p.port === port).nodePort;
    assert.deepEqual(cp.extraPortMappings.map((m) => `${m.listenAddress}:${m.hostPort}->${m.containerPort}`), [`127.0.0.1:80->${nodePort(80)}`, `127.0.0.1:443->${nodePort(443)}`]);
    for (const n of cluster.nodes) assert.match(n.image, /^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    assert.equal(new Set(cluster.nodes.map((n) => n.image)).size, 1, "one node image");
  });
});

describe("combinations", () => {
  const components = readdirSync(join(K8S, "components"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const kustomization = (dir) => parse(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
  const listedBy = (dir) => (kustomization(dir).components ?? []).map((c) => basename(c));
  // With the components of the overlay a combination builds on.
  const inEffect = (dir) => [...listedBy(dir), ...(kustomization(dir).resources ?? []).filter((r) => r.startsWith("../../overlays/")).flatMap((r) => listedBy(join(dir, r)))];

  test("every overlay that runs the shop is built with every component: by itself, a k8s/tests combination or an exemption", () => {
    assert.ok(components.length >= 3, `only ${components.length} components`);
    const appOverlays = Object.keys(OVERLAYS).filter((o) => OVERLAYS[o].role !== "stack");
    assert.deepEqual(appOverlays.filter((o) => !["kind", ...APP_OVERLAYS].includes(o)), []);
    const missing = [];
    for (const overlay of appOverlays) {
      const own = listedBy(join(K8S, "overlays", overlay));
      for (const component of components) {
        const name = `${overlay}-${component}`;
        if (own.includes(component) || Object.hasOwn(COMBINATION_EXEMPTIONS, name)) continue;
        const dir = join(K8S, "tests", name);
        const k = buildDirs().includes(dir) ? parse(readFileSync(join(dir, "kustomization.yaml"), "utf8")) : undefined;
        if (!k) missing.push(`k8s/tests/${name}`);
        else {
          assert.deepEqual(k.resources, [`../../overlays/${overlay}`], `k8s/tests/${name} builds on its overlay`);
          assert.ok(listedBy(dir).includes(component), `k8s/tests/${name} lists ${component}`);
        }
      }
    }
    assert.deepEqual(missing, [], "missing combinations (or add an exemption with its reason to COMBINATION_EXEMPTIONS)");
    for (const name of Object.keys(COMBINATION_EXEMPTIONS)) {
      const [overlay] = name.split("-");
      assert.ok(components.includes(name.slice(overlay.length + 1)), `exemption ${name} names no component`);
      assert.ok(!buildDirs().includes(join(K8S, "tests", name)), `exemption ${name} has a combination after all`);
    }
  });

  test("each component has its effect in every combination that lists it", () => {
    assert.ok(buildDirs().length > 1, "no combinations to check");
    for (const dir of buildDirs().filter((d) => OVERLAYS[overlayOf(d)].role !== "stack")) {
      const listed = inEffect(dir);
      const objects = build(dir);
      const kinds = new Set(objects.map((o) => o.kind));
      const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
      const sampler = envValue(objects, podOf(deploy).spec.containers[0], "QUARKUS_OTEL_TRACES_SAMPLER_ARG");
      const where = rel(dir);
      assert.equal(kinds.has("ScaledObject"), listed.includes("keda-request-rate"), `${where}: ScaledObject`);
      assert.equal(kinds.has("HorizontalPodAutoscaler"), !listed.includes("keda-request-rate"), `${where}: plain HPA`);
      assert.equal(kinds.has("Cluster"), listed.includes("cloudnative-pg"), `${where}: CloudNativePG Cluster`);
      assert.equal(kinds.has("ExternalSecret"), listed.includes("external-secrets"), `${where}: ExternalSecrets`);
      assert.equal(sampler, listed.includes("trace-sampling") ? "0.1" : "1.0", `${where}: sampler argument`);
    }
  });
});
