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
import { celProblems } from "./lib/cel.mjs";
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
      // Every manifest URL the facts give (what make kind-up applies) is the pinned version's.
      const urls = JSON.stringify(facts(project, variable)).match(/https:\/\/[^"]+\.ya?ml/g) ?? [];
      assert.ok(urls.length >= 1, "no install manifest URL");
      for (const url of urls) assert.ok(url.includes(`/v${version}/`), `${url} is not v${version}'s`);
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

  test("Traefik's RBAC grants what its providers watch and whose status they write at the pinned tag, and writes nothing else", () => {
    const role = find("ClusterRole", "traefik-edge");
    const rbac = facts("traefik", "TRAEFIK_VERSION").rbac;
    const grants = (group, resource, verb) => role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    const experimental = edge.args.some((a) => /^--providers\.kubernetesgateway\.experimentalchannel=true$/i.test(a));
    const needed = [
      ...Object.entries(rbac.watched).flatMap(([g, rs]) => rs.flatMap((r) => ["list", "watch"].map((v) => [g, r, v]))),
      ...Object.entries(rbac.statusUpdated).flatMap(([g, rs]) => rs.map((r) => [g, r, "update"])),
      ...(experimental ? rbac.experimentalChannelOnly["gateway.networking.k8s.io"].map((r) => ["gateway.networking.k8s.io", r, r.endsWith("/status") ? "update" : "watch"]) : []),
    ];
    assert.ok(needed.length > 30);
    assert.deepEqual(needed.filter(([g, r, v]) => !grants(g, r, v)).map(([g, r, v]) => `${v} ${g || "core"}/${r}`), []);
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

describe("the CRDs' CEL rules (x-kubernetes-validations, lib/cel.mjs) bite as the API server's would", () => {
  // Each case breaks one upstream rule in a copy of a real object of the edge or of the kind build; the problem must
  // carry the rule's own message from the pinned schema (not a failure to evaluate it).
  const kindBuild = build(join(K8S, "overlays/kind"));
  const copy = (kind, name, from = objects) => structuredClone(from.find((o) => o.kind === kind && o.metadata.name === name));
  const cel = (o) => validateStrict(o).filter((p) => !p.includes("could not be evaluated"));
  const cases = [
    ["a redirect next to a backend", () => {
      const r = copy("HTTPRoute", "https-redirect");
      r.spec.rules[0].backendRefs = [{ name: "shop", port: 8080 }];
      return r;
    }, /RequestRedirect filter must not be used together with backendRefs/],
    ["TLS on the plain-HTTP listener", () => {
      const g = copy("Gateway", "edge");
      g.spec.listeners[0].tls = structuredClone(g.spec.listeners[1].tls);
      return g;
    }, /tls must not be specified for protocols \['HTTP', 'TCP', 'UDP'\]/],
    ["two listeners of one name", () => {
      const g = copy("Gateway", "edge");
      g.spec.listeners[1].name = g.spec.listeners[0].name;
      return g;
    }, /Listener name must be unique within the Gateway/],
    ["a filter whose type does not match its field", () => {
      const r = copy("HTTPRoute", "shop", kindBuild);
      r.spec.rules[0].filters.find((f) => f.type === "ResponseHeaderModifier").type = "RequestHeaderModifier";
      return r;
    }, /filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type/],
    // The path's type is left out: only its schema default (PathPrefix) makes the rule apply.
    ["a relative path (type from the schema's default)", () => {
      const r = copy("HTTPRoute", "shop", kindBuild);
      r.spec.rules[0].matches[0].path = { value: "api" };
      return r;
    }, /value must be an absolute path and start with '\/'/],
    // group and kind are left out too: equal only through their defaults.
    ["the same parent twice, once without a section", () => {
      const r = copy("HTTPRoute", "shop", kindBuild);
      const { name, namespace } = r.spec.parentRefs[0];
      r.spec.parentRefs = [r.spec.parentRefs[0], { name, namespace }];
      return r;
    }, /sectionName must be specified when parentRefs includes 2 or more references to the same parent/],
  ];
  for (const [what, broken, message] of cases) {
    test(`${what}: refused`, () => {
      const problems = cel(broken());
      assert.ok(problems.some((p) => message.test(p)), problems.join("\n") || "no problem reported");
    });
  }

  test("the real objects pass, and a rule that cannot be evaluated is a problem too", () => {
    // Two parents of the same name in different namespaces are different parents: this holds only when the rule sees
    // `namespace` under its escaped name (__namespace__).
    const r = copy("HTTPRoute", "shop", kindBuild);
    r.spec.parentRefs = [r.spec.parentRefs[0], { ...r.spec.parentRefs[0], namespace: "elsewhere", sectionName: undefined }];
    delete r.spec.parentRefs[1].sectionName;
    assert.deepEqual(validateStrict(r), []);
    assert.deepEqual(celProblems({ type: "object", "x-kubernetes-validations": [{ rule: "self.missing == 1", message: "m" }] }, {}).length, 1);
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

test("Grafana knows the edge's address: HTTPS and its route's path, in every build that routes it", () => {
  let checked = 0;
  for (const dir of buildDirs()) {
    const objs = build(dir);
    const route = objs.find((o) => o.kind === "HTTPRoute" && o.spec.rules.some((r) => r.backendRefs?.some((b) => b.name === "grafana")));
    if (!route) continue;
    const prefix = route.spec.rules.find((r) => r.backendRefs.some((b) => b.name === "grafana")).matches[0].path.value;
    const env = Object.fromEntries(objs.find((o) => o.kind === "Deployment" && o.metadata.name === "grafana").spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
    const host = route.spec.hostnames?.[0] ?? "localhost";
    assert.equal(env.GF_SERVER_ROOT_URL, `https://${host}${prefix}/`, `${rel(dir)}: Grafana's root URL (its redirects and links)`);
    assert.equal(env.GF_SERVER_SERVE_FROM_SUB_PATH, "true", rel(dir));
    checked++;
  }
  assert.ok(checked >= 2, `only ${checked} builds route Grafana`);
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

test("ingress-nginx is gone: no file of the repository installs, waits for, selects or describes it, or an Ingress", () => {
  // Every tracked file (docs and comments too) but upstream's third-party material and the drill catalogue, which
  // plants leftovers on purpose; only lines saying that it is gone may name it.
  const files = execFileSync("git", ["ls-files"], { cwd: REPO, encoding: "utf8" })
    .split("\n")
    .filter((f) => f && !/(^|\/)tests\/third-party\//.test(f) && !f.startsWith("drill/catalogue/") && f !== "k8s/tests/edge.test.mjs" && !/\.(png|svg|jar|p12|gz)$/.test(f));
  assert.ok(files.length > 300, `only ${files.length} files searched`);
  const leftover = /ingress-nginx|ingressClassName|^\s*kind: Ingress\s*$|\bthe Ingress\b(?! provider)|[Ii]ngress controller|through (the )?ingress\b/;
  const left = files
    .filter((f) => existsSync(join(REPO, f)))
    .flatMap((f) => readFileSync(join(REPO, f), "utf8").split("\n").map((line, i) => [f, i + 1, line]))
    .filter(([, , line]) => leftover.test(line) && !/no `?ingress-nginx`? left/.test(line))
    .map(([f, n, line]) => `${f}:${n}: ${line.trim().slice(0, 120)}`);
  assert.deepEqual(left, []);
});

test("the edge's kustomization lists every file of k8s/edge (yamllint and kustomize see the same set)", () => {
  const k = parse(readFileSync(join(EDGE_DIR, "kustomization.yaml"), "utf8"));
  const files = execFileSync("git", ["ls-files", "--others", "--cached", "--exclude-standard", "k8s/edge"], { cwd: REPO, encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".yaml") && !f.endsWith("kustomization.yaml"));
  assert.deepEqual([...k.resources].sort(), files.map((f) => f.slice("k8s/edge/".length)).sort());
});
