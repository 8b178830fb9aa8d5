// Offline proof of the edge (`make test-k8s-edge`, part of `make test-k8s`): k8s/edge (Traefik, the Gateway, the local
// CA) and the routes every build attaches to it. Why Traefik and how the pieces fit: k8s/README.md, "Edge".
// Runner: node --test (https://nodejs.org/api/test.html).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { NAMESPACE_LABELS, OVERLAYS } from "./expectations.mjs";
import { makeVariable, thirdPartyDir } from "./lib/crd.mjs";
import { EDGE_DIR, edgeFacts, httpRoutes, ROUTES, shopRateLimit } from "./lib/edge.mjs";
import { allowedFlows, policyShapes } from "./lib/netpol.mjs";
import { probesAndResources, restrictedPss } from "./lib/policy.mjs";
import { appProperties, build, buildDirs, K8S, overlayOf, rel, REPO } from "./lib/render.mjs";
import { loadCapacity } from "./lib/sizing.mjs";
import { validateStrict } from "./lib/schema.mjs";

const edge = edgeFacts();
const objects = edge.objects;
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const node = /kindest\/node:v(\d+\.\d+)\./.exec(readFileSync(join(K8S, "kind/cluster.yaml"), "utf8"))[1];
const facts = (project, variable) => JSON.parse(readFileSync(join(thirdPartyDir(project, variable), "release-facts.json"), "utf8"));
const capacity = loadCapacity(REPO).sizing;

describe("pinned releases (k8s/k8s.mk) and their schemas under k8s/tests/third-party", () => {
  const readme = readFileSync(join(K8S, "tests/third-party/README.md"), "utf8");
  for (const [project, variable, schemas] of [
    ["gateway-api", "GATEWAY_API_VERSION", ["gateway.v1.json", "gatewayclass.v1.json", "httproute.v1.json"]],
    ["traefik", "TRAEFIK_VERSION", ["middleware.v1alpha1.json"]],
    ["cert-manager", "CERT_MANAGER_VERSION", ["certificate.v1.json", "clusterissuer.v1.json"]],
  ]) {
    test(`${project} ${variable}: schemas, facts and README entry`, () => {
      const version = makeVariable(variable);
      assert.match(version, /^\d+\.\d+\.\d+$/);
      for (const f of [...schemas, "release-facts.json"]) assert.ok(existsSync(join(thirdPartyDir(project, variable), f)), `${project}-v${version}/${f}`);
      assert.ok(facts(project, variable).source.endsWith(`at tag v${version}`), "release-facts.json names another tag");
      assert.match(readme, new RegExp(`## ${project}-v${version.replaceAll(".", "\\.")}`));
    });
  }

  test("Gateway API and cert-manager are tested upstream on the kind node's Kubernetes; Traefik implements the pinned Gateway API", () => {
    assert.ok(facts("gateway-api", "GATEWAY_API_VERSION").kubernetesTested.versions.includes(node), `Gateway API not tested on ${node}`);
    assert.ok(facts("cert-manager", "CERT_MANAGER_VERSION").kubernetesTested.versions.includes(node), `cert-manager not tested on ${node}`);
    const traefik = facts("traefik", "TRAEFIK_VERSION");
    assert.equal(traefik.gatewayApi.version, makeVariable("GATEWAY_API_VERSION"));
    assert.equal(traefik.image, `traefik:v${makeVariable("TRAEFIK_VERSION")}`);
    assert.equal(find("GatewayClass", "traefik").spec.controllerName, traefik.gatewayApi.controllerName);
  });
});

describe("k8s/edge", () => {
  test("every object validates against its schema, unknown fields rejected", () => {
    assert.ok(objects.length >= 10);
    assert.deepEqual(objects.flatMap(validateStrict), []);
  });

  test("Traefik runs the pinned image, restricted, with probes, requests and limits", () => {
    const pod = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "traefik").spec.template.spec;
    assert.equal(pod.containers[0].image, `traefik:v${makeVariable("TRAEFIK_VERSION")}`);
    assert.deepEqual(restrictedPss(objects), []);
    assert.deepEqual(probesAndResources(objects), []);
    assert.equal(find("Namespace", edge.namespace)?.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // Both providers: the Gateway API and the CRD provider the ExtensionRef Middleware needs.
    const args = pod.containers[0].args;
    for (const a of ["--providers.kubernetesgateway=true", "--providers.kubernetescrd=true"]) assert.ok(args.includes(a), a);
  });

  test("Traefik's RBAC reads, and writes only the status of Gateway API objects", () => {
    const role = find("ClusterRole", "traefik-edge");
    const writes = role.rules.filter((r) => r.verbs.some((v) => !["get", "list", "watch"].includes(v)));
    assert.ok(writes.length > 0);
    for (const r of writes) {
      assert.deepEqual(r.verbs, ["update"]);
      assert.deepEqual(r.apiGroups, ["gateway.networking.k8s.io"]);
      assert.ok(r.resources.every((x) => x.endsWith("/status")), JSON.stringify(r.resources));
    }
  });

  test("listeners: HTTP and HTTPS on Traefik's entry points, which the Service exposes as 80 and 443", () => {
    const http = edge.listener("http");
    const https = edge.listener("https");
    assert.equal(http?.protocol, "HTTP");
    assert.equal(https?.protocol, "HTTPS");
    assert.equal(http.port, edge.entryPoints.web, "the HTTP listener's port is the web entry point's");
    assert.equal(https.port, edge.entryPoints.websecure, "the HTTPS listener's port is the websecure entry point's");
    assert.equal(edge.gateway.spec.listeners.length, 2);
    const svc = find("Service", "traefik");
    const target = (port) => svc.spec.ports.find((p) => p.port === port)?.targetPort;
    const containerPort = (name) => edge.ports.find((p) => p.name === name)?.port;
    assert.equal(containerPort(target(80)), http.port);
    assert.equal(containerPort(target(443)), https.port);
    assert.equal(svc.spec.externalTrafficPolicy, "Local", "the client's address is what the rate limit counts by");
  });

  test("plain HTTP only redirects: 301 to https on the scheme's port, for every host and path", () => {
    const http = edge.listener("http");
    assert.deepEqual(http.allowedRoutes.namespaces, { from: "Same" }, "no other namespace attaches to the HTTP listener");
    const onHttp = objects.filter((o) => o.kind === "HTTPRoute" && o.spec.parentRefs.some((p) => p.sectionName === "http" || !p.sectionName));
    assert.deepEqual(onHttp.map((r) => r.metadata.name), ["https-redirect"]);
    const [route] = onHttp;
    assert.equal(route.spec.hostnames, undefined, "every host");
    assert.equal(route.spec.rules.length, 1);
    const [rule] = route.spec.rules;
    assert.equal(rule.matches, undefined, "every path");
    assert.equal(rule.backendRefs, undefined, "nothing is served over HTTP");
    assert.deepEqual(rule.filters, [{ type: "RequestRedirect", requestRedirect: { scheme: "https", statusCode: 301 } }]);
  });

  test("HTTPS: the listener's certificate comes from the local CA and names every host a route uses", () => {
    const https = edge.listener("https");
    assert.equal(https.tls.mode, "Terminate");
    const [ref] = https.tls.certificateRefs;
    const cert = objects.find((o) => o.kind === "Certificate" && o.spec.secretName === ref.name && o.metadata.namespace === edge.gateway.metadata.namespace);
    assert.ok(cert, `no Certificate writes Secret ${ref.name} in ${edge.gateway.metadata.namespace}`);
    assert.deepEqual(cert.spec.issuerRef, { group: "cert-manager.io", kind: "ClusterIssuer", name: "local-ca" });
    const hosts = new Set(["localhost"]);
    for (const dir of buildDirs()) for (const r of build(dir).filter((o) => o.kind === "HTTPRoute")) for (const h of r.spec.hostnames ?? []) hosts.add(h);
    assert.ok(hosts.size >= 3, `only ${[...hosts]}`);
    assert.deepEqual([...hosts].filter((h) => !cert.spec.dnsNames.includes(h)), []);
    const issuer = find("ClusterIssuer", "local-ca");
    const ca = objects.find((o) => o.kind === "Certificate" && o.spec.secretName === issuer.spec.ca.secretName);
    assert.equal(ca?.metadata.namespace, "cert-manager", "a ClusterIssuer reads its Secret from cert-manager's namespace");
    assert.equal(ca.spec.isCA, true);
    assert.equal(find("ClusterIssuer", ca.spec.issuerRef.name)?.spec.selfSigned !== undefined, true, "the CA is self-signed");
  });

  test("HTTPS admits routes from exactly the namespaces whose builds have routes", () => {
    const admitted = edge.listener("https").allowedRoutes.namespaces.selector.matchExpressions[0];
    assert.equal(admitted.key, "kubernetes.io/metadata.name");
    const withRoutes = [...new Set(buildDirs().filter((d) => build(d).some((o) => o.kind === "HTTPRoute")).map((d) => OVERLAYS[overlayOf(d)].namespace))].sort();
    assert.deepEqual([...admitted.values].sort(), withRoutes);
  });
});

describe("the routes of every build (overlays and k8s/tests combinations)", () => {
  const props = appProperties();
  const dirs = buildDirs();
  test("there are builds to check", () => assert.ok(dirs.length >= 4, `only ${dirs.length}`));
  for (const dir of dirs) {
    test(`${rel(dir)}: exactly what it serves, over HTTPS only, with HSTS and the API's rate limit, never the management port`, () => {
      assert.deepEqual(httpRoutes(build(dir), props, ROUTES[OVERLAYS[overlayOf(dir)].role]), []);
    });
  }
});

describe("per-client rate limit (Traefik RateLimit, keyed by the client's address)", () => {
  const limitOf = (overlay) => shopRateLimit(build(join(K8S, "overlays", overlay)));

  test("staging and production: above the load profile's rate, far below what the platform holds", () => {
    for (const overlay of ["staging", "production"]) {
      const rl = limitOf(overlay);
      assert.ok(rl.average > capacity.expected_rps, `${overlay}: ${rl.average} req/s throttles a load run (${capacity.expected_rps} req/s)`);
      assert.ok(rl.average * 2 <= capacity.platform_rps, `${overlay}: one client may take ${rl.average} of ${capacity.platform_rps} req/s`);
      assert.ok(rl.burst >= rl.average);
    }
  });

  test("kind (the stress bench): at least twice what the platform holds, so the stress run finds the platform's limit", () => {
    const rl = limitOf("kind");
    assert.ok(rl.average >= 2 * capacity.platform_rps, `kind: ${rl.average} req/s`);
  });
});

describe("the edge's NetworkPolicies", () => {
  const IP_BLOCK_POLICIES = ["kube-api-egress", "traefik"];
  test("shapes: no allow-all peers, namespaces by name, ipBlock only for the API server and the host's clients", () => {
    assert.deepEqual(policyShapes(objects, IP_BLOCK_POLICIES), []);
  });

  test("Traefik reaches exactly the routes' backends, and only the host reaches Traefik", () => {
    const pod = (id, namespace, ports, ip) => ({ id, namespace, labels: { "app.kubernetes.io/name": id }, ip, ports: ports.map((port) => ({ port, protocol: "TCP" })) });
    let n = 20;
    const outside = [
      ...["shop", "shop-staging", "shop-production"].map((ns) => pod("shop", ns, [8080, 9000], `10.244.3.${n++}`)),
      ...["shop", "observability"].map((ns) => pod("grafana", ns, [3000], `10.244.3.${n++}`)),
      pod("prometheus", "observability", [9090], "10.244.3.40"),
      pod("stranger", edge.namespace, [8080], "10.244.3.41"),
      // A pod next to the shop on the API's port: Traefik must reach the shop's pods only.
      pod("stranger", "shop", [8080], "10.244.3.42"),
      { id: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, ip: "10.244.0.3", ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
      { id: "kube-api-service", ip: "10.96.0.1", ports: [{ port: 443, protocol: "TCP" }] },
      { id: "kube-api-node", ip: "172.18.0.2", ports: [{ port: 6443, protocol: "TCP" }] },
      // kind's port mapping: host clients arrive with the Docker network's gateway address.
      { id: "host", ip: "172.18.0.1", ports: [] },
      { id: "internet", ip: "8.8.8.8", ports: [{ port: 443, protocol: "TCP" }] },
    ];
    const namespaces = { ...NAMESPACE_LABELS, [edge.namespace]: { "kubernetes.io/metadata.name": edge.namespace } };
    const allowed = [...allowedFlows(objects, outside, namespaces)].sort();
    const tcp = (a, b, p) => `${a} -> ${b}:${p}/TCP`;
    const expected = [
      ...["shop", "shop-staging", "shop-production"].map((ns) => tcp("traefik", `${ns}/shop`, 8080)),
      ...["shop", "observability"].map((ns) => tcp("traefik", `${ns}/grafana`, 3000)),
      tcp("traefik", "kube-api-service", 443),
      tcp("traefik", "kube-api-node", 6443),
      ...["traefik", `${edge.namespace}/stranger`].flatMap((src) => [`${src} -> kube-dns:53/UDP`, `${src} -> kube-dns:53/TCP`]),
      ...["host", "kube-api-node"].flatMap((src) => [tcp(src, "traefik", 8000), tcp(src, "traefik", 8443)]),
    ].sort();
    assert.deepEqual(allowed, expected);
  });
});

test("ingress-nginx is gone: no manifest, script, make file or workflow installs, waits for or selects it", () => {
  const files = execFileSync("git", ["ls-files", "k8s", ".github/workflows", "Makefile", "observability", "loadtest"], { cwd: REPO, encoding: "utf8" })
    .split("\n")
    .filter((f) => /\.(ya?ml|sh|mk|mjs|py|json)$|Makefile$/.test(f) && !f.startsWith("k8s/tests/third-party/") && f !== "k8s/tests/edge.test.mjs");
  assert.ok(files.length > 50, `only ${files.length} files searched`);
  const left = files.filter((f) => existsSync(join(REPO, f)) && /ingress-nginx|ingressClassName|kind: Ingress$/m.test(readFileSync(join(REPO, f), "utf8")));
  assert.deepEqual(left, []);
});

test("the edge's kustomization lists every file of k8s/edge (yamllint and kustomize see the same set)", () => {
  const k = parse(readFileSync(join(EDGE_DIR, "kustomization.yaml"), "utf8"));
  const files = execFileSync("git", ["ls-files", "--others", "--cached", "--exclude-standard", "k8s/edge"], { cwd: REPO, encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".yaml") && !f.endsWith("kustomization.yaml"));
  assert.deepEqual([...k.resources].sort(), files.map((f) => f.slice("k8s/edge/".length)).sort());
});
