#!/usr/bin/env python3
"""The tools make targets use, read from toolchain/tools.tsv (standard library only: it must run before PyYAML is there).

  tools.py doctor                 every tool: found or not, where, version, the targets that need it
  tools.py require TARGET...      make sure the tools TARGET needs are there: as root with apt-get, install the
                                  missing ones' Debian packages in one apt-get call; otherwise print one line per
                                  missing tool saying how to get it on this system, and exit 1
  tools.py check TARGET...        like require, never installs
  tools.py debian-packages [--except TOOL,...]
                                  the Debian packages of every tool but those (for an image that has them all)

When TOOLCHAIN_MISSING_FILE names a file, require/check append the names of the tools they could not find to it,
so toolchain/test.sh can tell "not run for want of a tool" from "failed".
The system (for the install hints) is read from `uname -s` and the package managers on PATH.
apt-get: https://manpages.debian.org/bookworm/apt/apt-get.8.en.html
"""
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.environ.get("TOOLCHAIN_TABLE", os.path.join(HERE, "tools.tsv"))
COLUMNS = ["tool", "command", "version", "targets", "debian", "brew", "dnf", "note"]
NONE = "-"


def fail(msg):
    print(f"tools: {msg}", file=sys.stderr)
    sys.exit(2)


def load_table(path=TABLE):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) != len(COLUMNS) or any(not c.strip() for c in cells):
                fail(f"{path}:{n}: expected {len(COLUMNS)} non-empty TAB-separated columns "
                     f"({', '.join(COLUMNS)}; '-' for none), got {len(cells)}")
            row = dict(zip(COLUMNS, (c.strip() for c in cells)))
            row["targets"] = [] if row["targets"] == NONE else row["targets"].split(",")
            rows.append(row)
    if not rows:
        fail(f"{path}: no tools listed")
    names = [r["tool"] for r in rows]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        fail(f"{path}: listed twice: {', '.join(dupes)}")
    return rows


def run(cmd, timeout=20):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, (p.stdout or "") + (p.stderr or "")
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, str(e)


def locate(row):
    """Where the tool is (a path, or 'python3 (module)'), and its version; (None, None) when missing."""
    for alt in row["command"].split("|"):
        if alt.startswith("python3:"):
            module = alt.split(":", 1)[1]
            py = shutil.which("python3")
            if not py:
                continue
            code, out = run([py, "-c", f"import {module}; print(getattr({module}, '__version__', ''))"])
            if code == 0:
                return f"{py} (module {module})", out.strip() or "?"
            continue
        if "/" in alt:
            hits = sorted(glob.glob(alt), key=version_key)
            path = next((h for h in reversed(hits) if os.access(h, os.X_OK)), None)
        else:
            path = shutil.which(alt)
        if path:
            return path, version_of(path, row["version"])
    return None, None


def version_key(path):
    return [int(n) for n in re.findall(r"\d+", path)]


def version_of(path, args):
    if args == NONE:
        return "?"
    _, out = run([path] + args.split())
    m = re.search(r"\d+\.\d+(?:\.\d+)?", out)
    return m.group(0) if m else "?"


def system():
    """'macos', 'debian' (apt-get), 'fedora' (dnf) or 'other', for the install hints."""
    code, out = run(["uname", "-s"])
    if code == 0 and out.strip() == "Darwin":
        return "macos"
    if shutil.which("apt-get"):
        return "debian"
    if shutil.which("dnf"):
        return "fedora"
    return "other"


def hint(row, sysname):
    how = {
        "macos": ("brew", "brew install {}"),
        "debian": ("debian", "sudo apt-get install {}"),
        "fedora": ("dnf", "sudo dnf install {}"),
    }
    note = "" if row["note"] == NONE else row["note"]
    if sysname in how:
        col, fmt = how[sysname]
        pkg = row[col]
        # The note is for when this system's package manager has no package (it says where to get the tool).
        if pkg == NONE:
            return note or "no package for this system"
        return fmt.format(pkg)
    parts = [f"{label}: {row[col]}" for label, col in (("Homebrew", "brew"), ("apt", "debian"), ("dnf", "dnf"))
             if row[col] != NONE]
    return "; ".join(parts + ([note] if note else []))


def rows_for(rows, targets):
    known = {t for r in rows for t in r["targets"]}
    unknown = [t for t in targets if t not in known]
    if unknown:
        fail(f"no tool in {os.path.relpath(TABLE)} names the target(s) {', '.join(unknown)}")
    return [r for r in rows if set(r["targets"]) & set(targets)]


def can_apt():
    # `id -u` rather than os.geteuid(), like the shell scripts (and their tests, which stub id).
    code, out = run(["id", "-u"])
    return code == 0 and out.strip() == "0" and shutil.which("apt-get") is not None


def apt_install(packages):
    print(f"tools: installing {' '.join(packages)} with apt-get", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # A fresh machine or container has no package lists yet: fetch them only then.
    if subprocess.run(["apt-cache", "show"] + packages, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + packages, env=env,
                   stdout=subprocess.DEVNULL, check=False)


def require(targets, install):
    rows = rows_for(load_table(), targets)
    missing = [r for r in rows if locate(r)[0] is None]
    if missing and install and can_apt():
        packages = sorted({r["debian"] for r in missing if r["debian"] != NONE})
        if packages:
            apt_install(packages)
            missing = [r for r in missing if locate(r)[0] is None]
    if not missing:
        return 0
    sysname = system()
    for r in missing:
        needed = ", ".join(t for t in r["targets"] if t in targets)
        print(f"missing: {r['tool']} (needed by {needed}): {hint(r, sysname)}", file=sys.stderr)
    record = os.environ.get("TOOLCHAIN_MISSING_FILE")
    if record:
        with open(record, "a", encoding="utf-8") as f:
            f.writelines(r["tool"] + "\n" for r in missing)
    return 1


def doctor():
    rows = load_table()
    sysname = system()
    table = [("tool", "found", "where", "version", "needed by")]
    missing = []
    for r in rows:
        path, version = locate(r)
        if path is None:
            missing.append(r)
        table.append((r["tool"], "yes" if path else "NO", path or "-", version or "-", ",".join(r["targets"]) or "-"))
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[4])
    print(f"\n{len(rows) - len(missing)} of {len(rows)} tools found (system: {sysname})")
    for r in missing:
        print(f"  get {r['tool']}: {hint(r, sysname)}")
    return 0


def main(argv):
    if not argv:
        fail("usage: tools.py doctor | require TARGET... | check TARGET... | debian-packages")
    cmd, args = argv[0], argv[1:]
    if cmd == "doctor":
        return doctor()
    if cmd in ("require", "check"):
        if not args:
            fail(f"usage: tools.py {cmd} TARGET...")
        return require(args, install=cmd == "require")
    if cmd == "debian-packages":
        rows = load_table()
        skip = set(args[1].split(",")) if args[:1] == ["--except"] and len(args) == 2 else set()
        if args and not skip:
            fail("usage: tools.py debian-packages [--except TOOL,...]")
        unknown = skip - {r["tool"] for r in rows}
        if unknown:
            fail(f"--except names tools the table does not list: {', '.join(sorted(unknown))}")
        print("\n".join(sorted({r["debian"] for r in rows if r["debian"] != NONE and r["tool"] not in skip})))
        return 0
    fail(f"unknown command {cmd!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
