// .github/CODEOWNERS read the way GitHub reads it (https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners):
// gitignore-style patterns, the last matching line wins, `!` negation and `[ ]` ranges are not supported, a line
// with a pattern and no owner makes its paths ownerless.

const OWNER = /^(@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[A-Za-z]+)$/;

/** Parses the file: {rules: [{line, pattern, owners, regex}], problems}. */
export function parseCodeowners(text) {
  const rules = [];
  const problems = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const [pattern, ...owners] = line.split(/\s+/);
    const where = `CODEOWNERS:${i + 1}`;
    if (pattern.startsWith('!')) problems.push(`${where}: negation (${pattern}) is not supported by GitHub`);
    if (/[[\]]/.test(pattern)) problems.push(`${where}: character ranges (${pattern}) are not supported by GitHub`);
    for (const o of owners) if (!OWNER.test(o)) problems.push(`${where}: "${o}" is not a @user, @org/team or e-mail address`);
    rules.push({ line: i + 1, pattern, owners, regex: patternRegex(pattern) });
  });
  return { rules, problems };
}

/** A gitignore-style pattern as a regular expression over repository paths (no leading slash). */
export function patternRegex(pattern) {
  let p = pattern;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.slice(0, -1);
  // A slash at the start or in the middle anchors the pattern at the root; otherwise it matches at any depth.
  const anchored = p.includes('/');
  p = p.replace(/^\//, '');
  let re = '';
  for (let i = 0; i < p.length; i++) {
    if (p.startsWith('**/', i)) { re += '(?:.*/)?'; i += 2; }
    else if (p.startsWith('/**', i) && i + 3 === p.length) { re += '/.*'; i += 2; }
    else if (p[i] === '*') re += '[^/]*';
    else if (p[i] === '?') re += '[^/]';
    else re += p[i].replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // A pattern naming a folder owns everything below it; one ending in / names only folders; one whose last part
  // is a wildcard (docs/*) owns only what is directly in that folder (GitHub's documented exception).
  const last = p.split('/').pop();
  const tail = dirOnly ? '/.*' : last.includes('*') ? '' : '(?:/.*)?';
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}${tail}$`);
}

/** The owners of one path (last matching rule), or null when no rule matches. */
export function ownersOf(rules, file) {
  let found = null;
  for (const r of rules) if (r.regex.test(file)) found = r;
  return found;
}
