#!/usr/bin/env python3
"""Expand/contract check of the Flyway migrations: nothing may break the release that is still running.

    python3 backup/check_migrations.py src/main/resources/db/migration
    python3 backup/check_migrations.py --fixtures backup/tests/migrations     (the check's own tests)

During a rolling update the previous release runs against the new schema, so a versioned migration
(V<version>__<name>.sql, https://documentation.red-gate.com/fd/migrations-184127470.html) is refused when it
  - drops a table or a column (the old release still reads it),
  - renames a table or a column (the old release still uses the old name),
  - changes a column's type (the old release's statements and mappings assume the old one),
  - adds a NOT NULL column without a DEFAULT to an existing table, or sets NOT NULL on an existing column
    (the old release's INSERTs do not fill it),
unless the file is marked as the contract step of an earlier expansion, on a line of its own:
    -- contract: V<version> <why it is safe now>
where V<version> is an older migration of the same folder (the expansion, shipped in an earlier release, after
which no running release uses what the contract removes). Tables created in the same file are new and free.
Adding tables, nullable columns, columns with a DEFAULT, indexes and extensions is always allowed.
Each refusal names the file, the statement and the rule. Only the Python standard library.
"""
import argparse
import os
import re
import sys

VERSIONED = re.compile(r"^V(\d+(?:[._]\d+)*)__.+\.sql$")
MARKER = re.compile(r"^--\s*contract:\s*V(\d+(?:[._]\d+)*)\b[ \t]*(.*)$", re.MULTILINE)
IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)'
QUALIFIED = rf"{IDENT}(?:\.{IDENT})?"


def version_key(v):
    return tuple(int(x) for x in re.split(r"[._]", v))


def name(ident):
    """Unqualified, unquoted, case-folded name (PostgreSQL folds unquoted identifiers to lower case)."""
    last = re.findall(IDENT, ident)[-1]
    return last[1:-1] if last.startswith('"') else last.lower()


def statements(sql):
    """The SQL statements of a file, comments removed, whitespace collapsed; dollar-quoted bodies kept whole."""
    out, buf, i, n = [], [], 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            i = sql.find("\n", i) if sql.find("\n", i) >= 0 else n
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and not sql.startswith("''", j)):
                j += 2 if sql.startswith("''", j) else 1
            buf.append(sql[i:j + 1])
            i = j + 1
        elif c == "$" and re.match(r"\$[A-Za-z_]*\$", sql[i:]):
            tag = re.match(r"\$[A-Za-z_]*\$", sql[i:]).group(0)
            j = sql.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            buf.append(sql[i:j])
            i = j
        elif c == ";":
            out.append(" ".join("".join(buf).split()))
            buf, i = [], i + 1
        else:
            buf.append(c)
            i += 1
    out.append(" ".join("".join(buf).split()))
    return [s for s in out if s]


def split_top(text):
    """Split on commas outside parentheses (the actions of one ALTER TABLE)."""
    parts, depth, cur = [], 0, []
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def violations(stmt, new_tables):
    """Rules stmt breaks for the previous release; new_tables are created in the same file (no old reader)."""
    found = []
    m = re.match(rf"(?i)^DROP TABLE (?:IF EXISTS )?(.+?)(?: CASCADE| RESTRICT)?$", stmt)
    if m:
        for t in m.group(1).split(","):
            if name(t.strip()) not in new_tables:
                found.append(f"drops table {name(t.strip())}")
        return found
    m = re.match(rf"(?i)^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?({QUALIFIED})\s+(.*)$", stmt)
    if not m:
        return found
    table, rest = name(m.group(1)), m.group(2)
    if table in new_tables:
        return found
    if re.match(r"(?i)^RENAME TO ", rest):
        return [f"renames table {table}"]
    if re.match(r"(?i)^RENAME (?:COLUMN )?", rest):
        return [f"renames a column of {table}"]
    for action in split_top(rest):
        a = action.upper()
        if re.match(r"DROP (?:COLUMN )?(?!CONSTRAINT\b)", a) and not a.startswith("DROP DEFAULT") \
                and not a.startswith("DROP NOT NULL"):
            found.append(f"drops a column of {table} ({action})")
        elif re.match(r"ALTER (?:COLUMN )?\S+ (?:SET DATA )?TYPE ", a):
            found.append(f"changes a column type of {table} ({action})")
        elif re.match(r"ALTER (?:COLUMN )?\S+ SET NOT NULL", a):
            found.append(f"sets NOT NULL on an existing column of {table} ({action})")
        elif re.match(r"ADD (?:COLUMN )?(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b|EXCLUDE\b)", a) \
                and re.search(r"\bNOT NULL\b", a) and not re.search(r"\bDEFAULT\b|\bGENERATED\b", a):
            found.append(f"adds a NOT NULL column without DEFAULT to existing table {table} ({action})")
    return found


def check(folder):
    """Problems (one line each) of the versioned migrations in folder; raises when there are none to check."""
    files = sorted((f for f in os.listdir(folder) if VERSIONED.match(f)),
                   key=lambda f: version_key(VERSIONED.match(f).group(1)))
    if not files:
        raise SystemExit(f"check-migrations: no versioned migration (V<version>__<name>.sql) in {folder}")
    versions = {version_key(VERSIONED.match(f).group(1)) for f in files}
    problems = []
    for f in files:
        version = version_key(VERSIONED.match(f).group(1))
        with open(os.path.join(folder, f), encoding="utf-8") as fh:
            sql = fh.read()
        marker = MARKER.search(sql)
        if marker:
            expanded = version_key(marker.group(1))
            if expanded >= version:
                problems.append(f"{f}: its contract marker names V{marker.group(1)}, which is not an older migration")
            elif expanded not in versions:
                problems.append(f"{f}: its contract marker names V{marker.group(1)}, which does not exist in {folder}")
            elif not marker.group(2).strip():
                problems.append(f"{f}: its contract marker must say why the old release no longer needs what it removes")
            continue
        stmts = statements(sql)
        new_tables = {name(m.group(1)) for s in stmts
                      for m in [re.match(rf"(?i)^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?({QUALIFIED})", s)] if m}
        for s in stmts:
            for v in violations(s, new_tables):
                problems.append(f"{f}: {v}: breaks the release still running during a rolling update "
                                f"(expand first; contract later in a file marked '-- contract: V<expansion> <why>')")
    return files, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", help="a Flyway migration folder")
    ap.add_argument("--fixtures", help="folder of fixture folders: ok-* must pass, bad-* must fail as EXPECT says")
    args = ap.parse_args()
    if args.fixtures:
        cases = sorted(d for d in os.listdir(args.fixtures) if os.path.isdir(os.path.join(args.fixtures, d)))
        if not cases:
            raise SystemExit(f"check-migrations: no fixture in {args.fixtures}")
        failed = 0
        for case in cases:
            path = os.path.join(args.fixtures, case)
            _, problems = check(path)
            expect_file = os.path.join(path, "EXPECT")
            expect = open(expect_file).read().strip() if os.path.exists(expect_file) else ""
            if case.startswith("ok-"):
                good = not problems
            else:
                good = bool(expect) and any(expect in p for p in problems)
            failed += not good
            print(f"{'ok  ' if good else 'FAIL'} fixture {case}: {'; '.join(problems) or 'accepted'}")
        if failed:
            raise SystemExit(f"check-migrations: {failed} of {len(cases)} fixtures did not behave as expected")
        print(f"check-migrations: all {len(cases)} fixtures behave as expected")
        return
    if not args.folder:
        ap.error("give a migration folder or --fixtures")
    files, problems = check(args.folder)
    for p in problems:
        print(f"check-migrations: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-migrations: {len(files)} migration(s) in {args.folder} keep the previous release working")


if __name__ == "__main__":
    main()
