// What Argo CD makes of k8s/gitops: the Applications an ApplicationSet generates (list generator, Go templates,
// templatePatch), the facts of the pinned release, and the git URL the in-cluster git server serves.
// ApplicationSet templating: https://argo-cd.readthedocs.io/en/stable/operator-manual/applicationset/GoTemplate/
// Go text/template syntax: https://pkg.go.dev/text/template
// Only the template actions k8s/gitops uses are understood ({{.key}}, {{if .key}}, {{if eq .key "v"}}, {{end}},
// with {{- -}} trimming); any other action is an error, so a new construct cannot be silently misread.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { makeVariable, thirdPartyDir } from "./crd.mjs";
import { podOf } from "./policy.mjs";

/** The facts of the pinned Argo CD release (k8s/tests/third-party/argo-cd-v<ARGOCD_VERSION>/release-facts.json). */
export function argocdFacts() {
  const dir = thirdPartyDir("argo-cd", "ARGOCD_VERSION");
  const facts = JSON.parse(readFileSync(join(dir, "release-facts.json"), "utf8"));
  if (facts.version !== `v${makeVariable("ARGOCD_VERSION")}`) {
    throw new Error(`${dir}/release-facts.json describes ${facts.version}, k8s/k8s.mk pins ARGOCD_VERSION ${makeVariable("ARGOCD_VERSION")}`);
  }
  return facts;
}

/** Renders a Go template string with `params` (missingkey=error). */
export function renderGoTemplate(text, params) {
  const value = (key) => {
    if (!Object.hasOwn(params, key)) throw new Error(`template: map has no entry for key "${key}"`);
    return params[key];
  };
  const pieces = [];
  const re = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/g;
  let last = 0;
  let m;
  while ((m = re.exec(text)) !== null) {
    pieces.push({ text: text.slice(last, m.index) });
    pieces.push({ action: m[2], trimLeft: m[1] === "-", trimRight: m[3] === "-" });
    last = re.lastIndex;
  }
  pieces.push({ text: text.slice(last) });
  // {{- trims the white space before the action, -}} the white space after it.
  for (let i = 0; i < pieces.length; i++) {
    if (pieces[i].trimLeft && i > 0) pieces[i - 1].text = pieces[i - 1].text.replace(/\s+$/, "");
    if (pieces[i].trimRight && i + 1 < pieces.length) pieces[i + 1].text = pieces[i + 1].text.replace(/^\s+/, "");
  }
  const truthy = (v) => !(v === false || v === 0 || v === "" || v === null || v === undefined || (Array.isArray(v) && v.length === 0));
  const out = [];
  const stack = [];
  const active = () => stack.every(Boolean);
  for (const piece of pieces) {
    if ("text" in piece) {
      if (active()) out.push(piece.text);
      continue;
    }
    const a = piece.action;
    let c;
    if ((c = /^\.(\w+)$/.exec(a))) {
      if (active()) out.push(String(value(c[1])));
    } else if ((c = /^if \.(\w+)$/.exec(a))) {
      stack.push(active() ? truthy(value(c[1])) : false);
    } else if ((c = /^if eq \.(\w+) "([^"]*)"$/.exec(a))) {
      stack.push(active() ? String(value(c[1])) === c[2] : false);
    } else if (a === "end") {
      if (!stack.length) throw new Error("template: {{end}} without {{if}}");
      stack.pop();
    } else {
      throw new Error(`template: action {{${a}}} is not understood by this test (k8s/tests/lib/gitops.mjs)`);
    }
  }
  if (stack.length) throw new Error("template: {{if}} without {{end}}");
  return out.join("");
}

/** Every string inside `node` rendered with `params`. */
function renderStrings(node, params) {
  if (typeof node === "string") return renderGoTemplate(node, params);
  if (Array.isArray(node)) return node.map((n) => renderStrings(n, params));
  if (node && typeof node === "object") return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, renderStrings(v, params)]));
  return node;
}

/** A strategic merge patch as far as Application fields need it: objects merge key by key, lists are replaced. */
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = { ...(target && typeof target === "object" && !Array.isArray(target) ? target : {}) };
  for (const [k, v] of Object.entries(patch)) out[k] = v === null ? undefined : mergePatch(out[k], v);
  return JSON.parse(JSON.stringify(out));
}

/**
 * The Applications an ApplicationSet generates, for list generators (the only kind k8s/gitops uses; any other
 * generator is an error). Each Application is in the ApplicationSet's namespace, as the controller creates it.
 */
export function generateApplications(appset) {
  const spec = appset.spec ?? {};
  if (spec.goTemplate !== true) throw new Error(`ApplicationSet/${appset.metadata.name}: goTemplate must be true (templatePatch needs it)`);
  const apps = [];
  for (const generator of spec.generators ?? []) {
    const kinds = Object.keys(generator);
    if (kinds.length !== 1 || kinds[0] !== "list") throw new Error(`ApplicationSet/${appset.metadata.name}: generator ${kinds.join(",")} is not modelled`);
    for (const params of generator.list.elements ?? []) {
      let app = renderStrings(spec.template, params);
      if (spec.templatePatch) {
        const patch = parse(renderGoTemplate(spec.templatePatch, params));
        const project = app.spec.project;
        app = mergePatch(app, patch);
        app.spec.project = project; // the controller ignores a project set by the patch
      }
      apps.push({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: { ...app.metadata, namespace: appset.metadata.namespace },
        spec: app.spec,
        params,
      });
    }
  }
  return apps;
}

/**
 * The git:// URL the git server of a build serves: Service (namespace, name, port) in front of the daemon's pods,
 * and the repository path below its --base-path. Throws when the pieces do not fit together.
 */
export function servedRepoURL(objects, clusterDomain = "cluster.local") {
  const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "git-server");
  if (!deployment) throw new Error("no Deployment git-server");
  const container = podOf(deployment).spec.containers.find((c) => c.name === "git-daemon");
  const script = (container?.command ?? []).join(" ");
  const base = /--base-path=(\S+)/.exec(script)?.[1];
  const port = Number(/--port=(\d+)/.exec(script)?.[1] ?? 9418);
  const init = /git init\b.*?(\/\S+\.git)\b/.exec(script)?.[1];
  if (!base || !init || !init.startsWith(`${base}/`)) throw new Error(`git-daemon: the repository ${init} is not below --base-path ${base}`);
  const cport = (container.ports ?? []).find((p) => p.containerPort === port);
  const labels = podOf(deployment).meta.labels ?? {};
  const service = objects.find(
    (o) =>
      o.kind === "Service" &&
      Object.entries(o.spec.selector ?? {}).every(([k, v]) => labels[k] === v) &&
      (o.spec.ports ?? []).some((p) => p.port === 9418 && (p.targetPort === cport?.name || p.targetPort === port)),
  );
  if (!cport || !service) throw new Error(`no Service on git://'s port 9418 reaches the daemon's port ${port}`);
  return `git://${service.metadata.name}.${service.metadata.namespace}.svc.${clusterDomain}${init.slice(base.length)}`;
}
