// Which files Renovate scans with which manager, and what a regex manager extracts, modelled on Renovate's own rules
// (lib/workers/repository/extract/file-match.ts of the renovate repository): includePaths keep a file that equals
// one or matches it as a minimatch glob (dot: true); ignorePaths drop a file that contains one as a substring or
// matches it as a glob; a manager scans the remaining files that match one of its managerFilePatterns, each a
// /regex/ or a glob. The manager defaults come from the facts file of the pinned renovate package.
// Only the glob features this repository uses are modelled (**, *); anything else throws.

/** A minimatch-style glob (dot: true) as a regular expression over repository paths. */
export function globRegex(glob) {
  if (/[{}[\]!?+@()]/.test(glob)) throw new Error(`glob ${glob}: only * and ** are modelled`);
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob.startsWith('**/', i)) { re += '(?:.*/)?'; i += 2; }
    else if (glob.startsWith('**', i)) { re += '.*'; i += 1; }
    else if (glob[i] === '*') re += '[^/]*';
    else re += glob[i].replace(/[.^$|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A managerFilePatterns entry: "/regex/" or a glob. */
export function filePattern(p) {
  const m = /^\/(.*)\/$/.exec(p);
  return m ? new RegExp(m[1]) : globRegex(p);
}

/** The files Renovate looks at after includePaths and ignorePaths. */
export function filteredFiles(files, { includePaths = [], ignorePaths = [] }) {
  let out = includePaths.length ? files.filter((f) => includePaths.some((p) => f === p || globRegex(p).test(f))) : [...files];
  out = out.filter((f) => !ignorePaths.some((p) => f.includes(p) || globRegex(p).test(f)));
  return out;
}

/**
 * For each enabled manager, the files it scans: {manager: [files]}. `defaults` maps manager -> its default
 * managerFilePatterns; the configuration's own patterns for a manager are added to them (the option is mergeable).
 */
export function scannedFiles(config, defaults, files) {
  const base = filteredFiles(files, { includePaths: config.includePaths, ignorePaths: config.ignorePaths ?? defaults.ignorePaths });
  const out = {};
  for (const manager of config.enabledManagers ?? []) {
    if (manager === 'custom.regex') {
      const patterns = (config.customManagers ?? []).filter((c) => c.customType === 'regex').flatMap((c) => c.managerFilePatterns ?? []);
      out[manager] = base.filter((f) => patterns.some((p) => filePattern(p).test(f)));
      continue;
    }
    if (!(manager in defaults.managers)) throw new Error(`no defaults recorded for manager ${manager}`);
    const patterns = [...defaults.managers[manager], ...(config[manager]?.managerFilePatterns ?? [])];
    out[manager] = base.filter((f) => patterns.some((p) => filePattern(p).test(f)));
  }
  return out;
}

/** What the regex custom managers scanning `file` extract from `content`: [{depName, currentValue, datasource}]. */
export function regexDeps(config, file, content) {
  const deps = [];
  for (const c of (config.customManagers ?? []).filter((m) => m.customType === 'regex')) {
    if (!(c.managerFilePatterns ?? []).some((p) => filePattern(p).test(file))) continue;
    for (const ms of c.matchStrings) {
      for (const m of content.matchAll(new RegExp(ms, 'g'))) {
        deps.push({ depName: m.groups.depName, currentValue: m.groups.currentValue, datasource: m.groups.datasource ?? c.datasourceTemplate });
      }
    }
  }
  return deps;
}

/** Container image references on `image:` lines of a Kubernetes manifest (what the kubernetes manager reads). */
export function manifestImages(content) {
  if (!/\bapiVersion\s*:/.test(content) || !/\bkind\s*:/.test(content)) return [];
  return [...content.matchAll(/^\s*-?\s*image:\s*['"]?([^\s'"#]+)/gm)].map((m) => m[1]);
}

/** Repository name of an image reference, without registry-less tag or digest ("grafana/loki:3.7.6" -> "grafana/loki"). */
export function imageName(ref) {
  return ref.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
}
