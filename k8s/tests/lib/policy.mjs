// Policy checks on rendered objects. Each check takes the objects of one build (and project facts) and returns a
// list of problems; an empty list passes. Kept free of I/O so the self-tests can feed them broken fixtures.
// Pod Security Standards (restricted): https://kubernetes.io/docs/concepts/security/pod-security-standards/
import { postgresOf } from "./cnpg.mjs";

export const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod"]);

/** Pod spec and pod template metadata of a workload object. */
export function podOf(object) {
  if (object.kind === "Pod") return { meta: object.metadata ?? {}, spec: object.spec ?? {} };
  if (object.kind === "CronJob") {
    const t = object.spec?.jobTemplate?.spec?.template ?? {};
    return { meta: t.metadata ?? {}, spec: t.spec ?? {} };
  }
  const t = object.spec?.template ?? {};
  return { meta: t.metadata ?? {}, spec: t.spec ?? {} };
}

export const workloads = (objects) => objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
const named = (o) => `${o.kind}/${o.metadata?.name}`;
const allContainers = (spec) => [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];

export function matchesSelector(selector, labels = {}) {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

// ---------------------------------------------------------------- Pod Security Standards, restricted profile

const ALLOWED_VOLUME_TYPES = new Set([
  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
]);

export function restrictedPss(objects) {
  const problems = [];
  for (const w of workloads(objects)) {
    const { spec } = podOf(w);
    const psc = spec.securityContext ?? {};
    const p = (msg) => problems.push(`${named(w)}: ${msg}`);
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f]) p(`${f} is set`);
    for (const v of spec.volumes ?? []) {
      const type = Object.keys(v).find((k) => k !== "name");
      if (!ALLOWED_VOLUME_TYPES.has(type)) p(`volume ${v.name} has type ${type}`);
    }
    if (psc.sysctls?.length) p("sysctls are set");
    if (psc.runAsUser === 0) p("pod runAsUser is 0");
    const podSeccomp = psc.seccompProfile?.type;
    if (podSeccomp && !["RuntimeDefault", "Localhost"].includes(podSeccomp)) p(`pod seccompProfile ${podSeccomp}`);
    for (const c of allContainers(spec)) {
      const sc = c.securityContext ?? {};
      const q = (msg) => p(`container ${c.name}: ${msg}`);
      if (sc.privileged) q("privileged");
      if (sc.allowPrivilegeEscalation !== false) q("allowPrivilegeEscalation is not false");
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) q("capabilities.drop lacks ALL");
      for (const cap of sc.capabilities?.add ?? []) if (cap !== "NET_BIND_SERVICE") q(`adds capability ${cap}`);
      if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) q("runAsNonRoot is not true");
      if (sc.runAsUser === 0) q("runAsUser is 0");
      const seccomp = sc.seccompProfile?.type ?? podSeccomp;
      if (!["RuntimeDefault", "Localhost"].includes(seccomp)) q(`seccompProfile is ${seccomp ?? "unset"}`);
      if (sc.procMount && sc.procMount !== "Default") q(`procMount ${sc.procMount}`);
      for (const port of c.ports ?? []) if (port.hostPort) q(`hostPort ${port.hostPort}`);
      // Beyond the profile, this project's rule: a read-only root filesystem everywhere.
      if (sc.readOnlyRootFilesystem !== true) q("readOnlyRootFilesystem is not true");
    }
  }
  return problems;
}

// ---------------------------------------------------------------- probes, resources, images

export function probesAndResources(objects) {
  const problems = [];
  for (const w of workloads(objects)) {
    for (const c of podOf(w).spec.containers ?? []) {
      const p = (msg) => problems.push(`${named(w)} container ${c.name}: ${msg}`);
      if (!c.readinessProbe) p("no readinessProbe");
      if (!c.livenessProbe) p("no livenessProbe");
      for (const kind of ["requests", "limits"]) {
        for (const r of ["cpu", "memory"]) if (c.resources?.[kind]?.[r] === undefined) p(`no ${kind}.${r}`);
      }
    }
  }
  return problems;
}

/** Splits an image reference into repository, tag and digest. */
export function parseImage(ref) {
  const [nameTag, digest] = ref.split("@");
  const slash = nameTag.lastIndexOf("/");
  const colon = nameTag.lastIndexOf(":");
  const hasTag = colon > slash;
  return { repository: hasTag ? nameTag.slice(0, colon) : nameTag, tag: hasTag ? nameTag.slice(colon + 1) : undefined, digest };
}

/** Docker Hub spells the same repository several ways; compare on one form. */
const canonicalRepository = (repo) =>
  repo.replace(/^docker\.io\//, "").replace(/^index\.docker\.io\//, "").replace(/^library\//, "");

/**
 * Pinned images: an explicit tag that is not `latest`, no pull policy Always. Images that compose/.env also
 * pins (any *_IMAGE variable) must carry the same tag; images compose does not use must be in `extra`.
 */
export function pinnedImages(objects, envImages, extra) {
  const problems = [];
  const envByRepo = new Map();
  for (const ref of envImages) envByRepo.set(canonicalRepository(parseImage(ref).repository), parseImage(ref).tag);
  for (const w of workloads(objects)) {
    for (const c of allContainers(podOf(w).spec)) {
      const p = (msg) => problems.push(`${named(w)} container ${c.name}: ${msg}`);
      const { repository, tag, digest } = parseImage(c.image ?? "");
      if (!tag && !digest) p(`image ${c.image} has no tag`);
      if (tag === "latest") p(`image ${c.image} uses latest`);
      if (c.imagePullPolicy === "Always") p("imagePullPolicy Always");
      const repo = canonicalRepository(repository);
      if (envByRepo.has(repo)) {
        if (envByRepo.get(repo) !== tag) p(`image ${c.image}: compose/.env pins ${repo}:${envByRepo.get(repo)}`);
      } else if (!extra.includes(c.image)) {
        p(`image ${c.image} is neither in compose/.env nor in the list of kind-only images`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- Services, ports

/** Every Service selects the pods of some workload, and each targetPort exists in those pods. */
export function servicesSelectPods(objects) {
  const problems = [];
  const pods = workloads(objects).map((w) => ({ w, ...podOf(w) }));
  for (const svc of objects.filter((o) => o.kind === "Service")) {
    const p = (msg) => problems.push(`Service/${svc.metadata.name}: ${msg}`);
    const selector = svc.spec?.selector;
    if (!selector || !Object.keys(selector).length) {
      p("has no selector");
      continue;
    }
    const ns = svc.metadata.namespace;
    const selected = pods.filter((x) => x.w.metadata.namespace === ns && matchesSelector({ matchLabels: selector }, x.meta.labels));
    if (!selected.length) {
      p("selects no pods of any workload");
      continue;
    }
    for (const port of svc.spec.ports ?? []) {
      const target = port.targetPort ?? port.port;
      const ok = selected.every((x) =>
        (x.spec.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.name === target || cp.containerPort === target)),
      );
      if (!ok) p(`targetPort ${target} is not a container port of the selected pods`);
    }
  }
  return problems;
}

export const intProp = (props, key, fallback) => {
  const v = props.get(key);
  return v === undefined ? fallback : Number.parseInt(v, 10);
};
/** Quarkus duration ("3S", "20s", "PT5S", "500ms") in seconds. */
export function quarkusSeconds(text) {
  const m = /^(?:PT)?(\d+(?:\.\d+)?)(ms|s|m)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`unreadable duration ${text}`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return unit === "ms" ? n / 1000 : unit === "m" ? n * 60 : n;
}

/**
 * The shop Deployment agrees with application.properties: container ports, probe ports and paths, metrics
 * annotation, and a termination grace period longer than preStop + shutdown delay + shutdown timeout.
 */
export function shopMatchesService(objects, props) {
  const problems = [];
  const p = (msg) => problems.push(`shop: ${msg}`);
  const http = intProp(props, "quarkus.http.port", 8080);
  const mgmt = intProp(props, "quarkus.management.port", 9000);
  if (props.get("quarkus.management.enabled") !== "true") p("application.properties does not enable the management port");
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  if (!deploy) return ["shop: no Deployment named shop"];
  const { meta, spec } = podOf(deploy);
  const c = (spec.containers ?? []).find((x) => x.name === "shop");
  if (!c) return ["shop: no container named shop"];
  const portOf = (name) => (c.ports ?? []).find((x) => x.name === name)?.containerPort;
  if (portOf("http") !== http) p(`container port http is ${portOf("http")}, application.properties says ${http}`);
  if (portOf("management") !== mgmt) p(`container port management is ${portOf("management")}, application.properties says ${mgmt}`);
  const probes = { startupProbe: "/q/health/started", readinessProbe: "/q/health/ready", livenessProbe: "/q/health/live" };
  for (const [probe, path] of Object.entries(probes)) {
    const get = c[probe]?.httpGet;
    if (!get) p(`${probe} is not an HTTP probe`);
    else {
      if (get.path !== path) p(`${probe} path ${get.path}, expected ${path}`);
      if (get.port !== "management" && get.port !== mgmt) p(`${probe} uses port ${get.port}, not the management port`);
    }
  }
  if (meta.annotations?.["prometheus.io/port"] !== String(mgmt)) p("prometheus.io/port is not the management port");
  if (meta.annotations?.["prometheus.io/path"] !== "/q/metrics") p("prometheus.io/path is not /q/metrics");
  const svc = objects.find((o) => o.kind === "Service" && o.metadata.name === "shop");
  const svcPorts = new Map((svc?.spec?.ports ?? []).map((x) => [x.name, x.port]));
  if (svcPorts.get("http") !== http || svcPorts.get("management") !== mgmt) p(`Service ports ${JSON.stringify([...svcPorts])} do not match ${http}/${mgmt}`);

  const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const delay = props.get("quarkus.shutdown.delay-enabled") === "true" ? quarkusSeconds(props.get("quarkus.shutdown.delay") ?? "0") : 0;
  const timeout = quarkusSeconds(props.get("quarkus.shutdown.timeout") ?? "30S");
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  if (!(grace > preStop + delay + timeout)) p(`terminationGracePeriodSeconds ${grace} <= preStop ${preStop} + delay ${delay} + timeout ${timeout}`);

  const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
  const vol = tmp && (spec.volumes ?? []).find((v) => v.name === tmp.name);
  if (!vol?.emptyDir) p("no emptyDir mounted at /tmp (Quarkus needs it with a read-only root filesystem)");
  if (spec.automountServiceAccountToken !== false) p("pod mounts a service account token");
  const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata.name === (spec.serviceAccountName ?? "default"));
  if (sa?.automountServiceAccountToken !== false) p("ServiceAccount does not set automountServiceAccountToken: false");
  if (!(spec.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname")) p("no topologySpreadConstraints across nodes");
  return problems;
}

/** The ENTRYPOINT instruction of a Dockerfile, continuation lines joined (comments dropped). */
export function dockerEntrypoint(dockerfile) {
  const lines = dockerfile.split("\n").filter((l) => !l.trimStart().startsWith("#"));
  const start = lines.findIndex((l) => /^\s*ENTRYPOINT\b/.test(l));
  if (start < 0) return "";
  let text = "";
  for (let i = start; i < lines.length; i++) {
    text += lines[i].replace(/\\\s*$/, " ");
    if (!/\\\s*$/.test(lines[i])) break;
  }
  return text;
}

/**
 * The heap share the manifest sets must be the one the JVM in the image really uses. The shop sets it in
 * JDK_JAVA_OPTIONS (read by the java launcher, placed before the ENTRYPOINT's own flags, so an ENTRYPOINT flag
 * wins) or in JAVA_OPTS (only if the ENTRYPOINT passes $JAVA_OPTS on).
 */
export function javaOptsInEffect(objects, dockerfile) {
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const c = deploy && podOf(deploy).spec.containers.find((x) => x.name === "shop");
  if (!c) return ["shop: no container"];
  const entrypoint = dockerEntrypoint(dockerfile);
  const percent = (text) => /-XX:MaxRAMPercentage=([\d.]+)/.exec(text ?? "")?.[1];
  const jdk = envValue(objects, c, "JDK_JAVA_OPTIONS");
  const javaOpts = envValue(objects, c, "JAVA_OPTS");
  const problems = [];
  if (javaOpts !== undefined && !/JAVA_OPTS/.test(entrypoint)) problems.push("shop: JAVA_OPTS is set, but the image's ENTRYPOINT never reads it");
  const mine = percent(jdk) ?? (/JAVA_OPTS/.test(entrypoint) ? percent(javaOpts) : undefined);
  if (mine === undefined) return [...problems, "shop: no -XX:MaxRAMPercentage in JDK_JAVA_OPTIONS (or a JAVA_OPTS the image reads)"];
  const image = percent(entrypoint);
  if (image !== undefined && Number(image) !== Number(mine)) {
    problems.push(`shop: MaxRAMPercentage=${mine} is overridden by the image's ENTRYPOINT (${image})`);
  }
  return problems;
}

/** An environment variable of a container, from `env` or an `envFrom` ConfigMap of the same build. */
export function envValue(objects, container, name) {
  const direct = (container.env ?? []).find((e) => e.name === name);
  if (direct) return direct.value;
  for (const from of container.envFrom ?? []) {
    const cm = from.configMapRef && objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === from.configMapRef.name);
    if (cm?.data && Object.hasOwn(cm.data, name)) return cm.data[name];
  }
  return undefined;
}

// ---------------------------------------------------------------- autoscaling, disruption budget, DB connections

/** The autoscaler of a Deployment: an HPA, or a KEDA ScaledObject (which creates one). */
export function autoscalerOf(objects, deployment) {
  const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec?.scaleTargetRef?.name === deployment);
  if (hpa) return { name: named(hpa), min: hpa.spec.minReplicas ?? 1, max: hpa.spec.maxReplicas, behavior: hpa.spec.behavior };
  const so = objects.find((o) => o.kind === "ScaledObject" && o.spec?.scaleTargetRef?.name === deployment);
  if (so) return { name: named(so), min: so.spec.minReplicaCount ?? 0, max: so.spec.maxReplicaCount ?? 100, behavior: so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior };
  return undefined;
}

/**
 * The shop's autoscaler and PodDisruptionBudget. `floor` is the availability minimum of the environment
 * (loadtest/capacity.yaml): at 2 or more exactly one PDB must leave a pod evictable at the autoscaler's minimum; below
 * 2 there is no availability to protect and a PDB would block every node drain, so there must be none.
 */
export function autoscalingAndBudget(objects, floor = 2) {
  const problems = [];
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const as = autoscalerOf(objects, "shop");
  if (!as) return ["shop: no HorizontalPodAutoscaler or ScaledObject"];
  const hpas = objects.filter((o) => ["HorizontalPodAutoscaler", "ScaledObject"].includes(o.kind) && o.spec?.scaleTargetRef?.name === "shop");
  if (hpas.length !== 1) problems.push(`shop: ${hpas.length} autoscalers target the Deployment (want exactly 1)`);
  if (as.min < floor) problems.push(`${as.name}: minimum ${as.min} < ${floor}`);
  if (!(as.max > as.min)) problems.push(`${as.name}: maximum ${as.max} <= minimum ${as.min}`);
  if (!as.behavior?.scaleUp || !as.behavior?.scaleDown) problems.push(`${as.name}: no explicit scaleUp and scaleDown behavior`);
  else {
    const up = as.behavior.scaleUp.stabilizationWindowSeconds ?? 0;
    const down = as.behavior.scaleDown.stabilizationWindowSeconds ?? 300;
    if (!(up < down)) problems.push(`${as.name}: scale-up window ${up}s is not shorter than scale-down window ${down}s`);
  }
  if (deploy?.spec?.replicas !== undefined) problems.push("Deployment/shop: sets replicas although an autoscaler owns them");

  // PodDisruptionBudget: must leave at least one pod evictable at the autoscaler's minimum.
  const pod = deploy ? podOf(deploy) : { meta: {} };
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget" && matchesSelector(o.spec?.selector, pod.meta.labels));
  const wantPdbs = floor >= 2 ? 1 : 0;
  if (pdbs.length !== wantPdbs) problems.push(`shop: ${pdbs.length} PodDisruptionBudgets select its pods (want ${wantPdbs} at an availability minimum of ${floor})`);
  for (const pdb of pdbs) {
    const { minAvailable, maxUnavailable } = pdb.spec;
    if (typeof minAvailable === "number" && !(minAvailable < as.min)) problems.push(`${named(pdb)}: minAvailable ${minAvailable} blocks every eviction at ${as.min} replicas`);
    if (typeof minAvailable === "string" || typeof maxUnavailable === "string") problems.push(`${named(pdb)}: use an absolute number, percentages round unpredictably at 2 replicas`);
    if (maxUnavailable === 0) problems.push(`${named(pdb)}: maxUnavailable 0 blocks every eviction`);
    if (minAvailable === undefined && maxUnavailable === undefined) problems.push(`${named(pdb)}: neither minAvailable nor maxUnavailable`);
  }
  return problems;
}

/**
 * Connection budget (k8s/README.md, "Capacity arithmetic"): at the autoscaler's maximum plus the rollout surge,
 * all pools together stay below PostgreSQL's max_connections minus the superuser reserve, the exporter and
 * an admin headroom. `reserve` is the `sizing` section of loadtest/capacity.yaml.
 */
export function connectionBudget(objects, props, reserve) {
  const deploy = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "shop");
  const as = autoscalerOf(objects, "shop");
  const pg = postgresOf(objects);
  if (!deploy || !as) return ["connection budget: the shop Deployment and its autoscaler are both needed"];
  if (pg.problems.length) return pg.problems;
  const container = podOf(deploy).spec.containers.find((c) => c.name === "shop");
  const pool = Number.parseInt(envValue(objects, container, "QUARKUS_DATASOURCE_JDBC_MAX_SIZE") ?? props.get("quarkus.datasource.jdbc.max-size") ?? "20", 10);
  const surgeRaw = deploy.spec?.strategy?.rollingUpdate?.maxSurge ?? "25%";
  const surge = typeof surgeRaw === "number" ? surgeRaw : Math.ceil((as.max * Number.parseInt(surgeRaw, 10)) / 100);
  const { maxConnections } = pg;
  const available = maxConnections - reserve.superuser_reserved - reserve.exporter_connections - reserve.admin_headroom;
  const needed = (as.max + surge) * pool;
  return needed <= available
    ? []
    : [`connection budget: (${as.max} max + ${surge} surge) x pool ${pool} = ${needed} > ${available} (${pg.name} max_connections ${maxConnections} - reserves)`];
}

/**
 * ServiceAccounts: a token only where a workload talks to the API, and RBAC stays namespaced. `cluster` holds the
 * objects of every build deployed next to this one (the environments bind the stack's ServiceAccounts in
 * `observability`): a RoleBinding's subject must be a ServiceAccount there, in the namespace it names.
 */
export function serviceAccounts(objects, apiClients, cluster = objects) {
  const problems = [];
  for (const w of workloads(objects)) {
    const { spec } = podOf(w);
    const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata.name === spec.serviceAccountName);
    const mounts = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
    const wants = apiClients.includes(w.metadata.name);
    if (mounts && !wants) problems.push(`${named(w)}: mounts a service account token but does not use the API`);
    if (wants && !spec.serviceAccountName) problems.push(`${named(w)}: uses the API with the default ServiceAccount`);
  }
  for (const o of objects.filter((x) => x.kind === "ClusterRole" || x.kind === "ClusterRoleBinding")) {
    problems.push(`${named(o)}: cluster-wide RBAC (everything here reads its own namespace only)`);
  }
  for (const rb of objects.filter((x) => x.kind === "RoleBinding")) {
    const ns = rb.metadata.namespace;
    if (!objects.some((o) => o.kind === rb.roleRef?.kind && o.metadata.name === rb.roleRef?.name && o.metadata.namespace === ns)) {
      problems.push(`${named(rb)}: roleRef ${rb.roleRef?.kind}/${rb.roleRef?.name} does not exist in ${ns}`);
    }
    for (const s of rb.subjects ?? []) {
      // A subject without a namespace is in the RoleBinding's own.
      const subjectNs = s.namespace ?? ns;
      const sa = s.kind === "ServiceAccount" && cluster.find((o) => o.kind === "ServiceAccount" && o.metadata.name === s.name && o.metadata.namespace === subjectNs);
      if (!sa) problems.push(`${named(rb)}: subject ${s.kind}/${s.name} in ${subjectNs} is not a ServiceAccount deployed with this build`);
    }
  }
  for (const role of objects.filter((x) => x.kind === "Role")) {
    for (const rule of role.rules ?? []) {
      const verbs = rule.verbs ?? [];
      if ([...verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])].includes("*")) problems.push(`${named(role)}: wildcard rule`);
      if (verbs.some((v) => !["get", "list", "watch"].includes(v))) problems.push(`${named(role)}: verbs ${verbs} beyond read`);
      if ((rule.resources ?? []).includes("secrets")) problems.push(`${named(role)}: reads secrets`);
    }
  }
  return problems;
}
