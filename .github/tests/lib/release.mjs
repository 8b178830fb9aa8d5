// Models of what GitHub and the docker actions make of release.yml, for the offline tests.
// Each model covers only the inputs this repository uses and throws on anything else, so a new input cannot
// pass unexamined.

/**
 * The image tags docker/metadata-action (v6.2.0, README "tags input" / "flavor input" / "Latest tag") generates
 * for a push of `gitTag` from its `tags` and `flavor` inputs: type=semver patterns, type=raw values, and
 * `latest`, which flavor latest=auto (the default) adds whenever a semver, ref event=tag, pep440 or match entry
 * is present and the version is not a pre-release.
 */
export function metadataTags({ tags = '', flavor = '' }, gitTag) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/.exec(gitTag);
  if (!m) throw new Error(`${gitTag} is not a semantic version tag`);
  const [, major, minor, patch, pre] = m;
  const version = `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}`;
  const flavors = Object.fromEntries(
    String(flavor).split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [k, v = ''] = l.split('=');
      return [k.trim(), v.trim()];
    }),
  );
  for (const k of Object.keys(flavors)) if (k !== 'latest') throw new Error(`flavor ${k} is not modelled`);
  const latest = flavors.latest ?? 'auto';
  if (!['auto', 'true', 'false'].includes(latest)) throw new Error(`flavor latest=${latest} is not one of auto, true, false`);
  const out = [];
  let latestEligible = false;
  for (const line of String(tags).split('\n').map((l) => l.trim()).filter(Boolean)) {
    const attrs = Object.fromEntries(line.split(',').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()]; }));
    if (attrs.enable !== undefined && attrs.enable !== 'true') throw new Error(`enable=${attrs.enable} is not modelled`);
    if (attrs.type === 'semver') {
      latestEligible = true;
      // Pre-releases get only the {{version}} pattern (README, type=semver).
      if (pre && attrs.pattern !== '{{version}}') continue;
      const value = attrs.pattern
        .replace('{{version}}', version)
        .replace('{{major}}', major)
        .replace('{{minor}}', minor)
        .replace('{{patch}}', patch);
      if (/\{\{/.test(value)) throw new Error(`semver pattern ${attrs.pattern} is not modelled`);
      out.push(value);
    } else if (attrs.type === 'raw') {
      out.push(attrs.value);
    } else {
      throw new Error(`tag type ${attrs.type} is not modelled`);
    }
  }
  if (latest === 'true' || (latest === 'auto' && latestEligible && !pre)) out.push('latest');
  return [...new Set(out)];
}

/** A concurrency group expression with the github context filled in (only ${{ github.X }} terms). */
export function concurrencyGroup(expr, github) {
  return String(expr).replace(/\$\{\{\s*github\.(\w+)\s*\}\}/g, (_, k) => {
    if (!(k in github)) throw new Error(`github.${k} is not modelled`);
    return github[k];
  }).replace(/\$\{\{[^}]*\}\}/g, (t) => { throw new Error(`cannot evaluate ${t}`); }).toLowerCase(); // group names are case-insensitive
}

/** The comment lines directly above a top-level key of a workflow file, as one string. */
export function commentAbove(text, key) {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${key}:`));
  if (at < 0) return '';
  const out = [];
  for (let i = at - 1; i >= 0 && lines[i].startsWith('#'); i--) out.unshift(lines[i].replace(/^#\s?/, ''));
  return out.join(' ');
}
