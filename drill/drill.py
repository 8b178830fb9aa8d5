#!/usr/bin/env python3
"""The breakage drill: every documented claim must fail a test when it is broken.

Each catalogue file (drill/catalogue/*.yaml) lists planted breakages. For every entry the drill plants the
edits in a scratch copy of the repository, runs the entry's target (the narrowest command that should catch
it) and requires that it fails, and fails for the reason the entry names (`expect`). The drill itself fails
when a breakage survives, when a target fails for another reason, or when an edit no longer applies (the text
to replace moved away), so the catalogue cannot rot silently. Every target is first run once on the
unmodified copy and must pass there: a target that always fails would "catch" everything.

Entry fields (drill/README.md has the full description):
  id, claim, edits: [{file, find, replace, count?}], target, expect, tier (quick|slow), timeout?

Usage:
  drill.py [--tier quick|all] [--catalogue FILE ...] [--only ID ...] [--list] [--keep]
  drill.py --check-readme README.md   the catalogue size the README states must be the real one

Python 3 standard library plus PyYAML, like the other checks of the project. No network, no Docker.
"""
from __future__ import annotations

import argparse
import fcntl
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
# Relative to the repository root.
CATALOGUE_DIR = Path("drill") / "catalogue"
WORK_DIR = Path("target") / "drill"
TIERS = ("quick", "slow")
ENTRY_KEYS = {"id", "claim", "edits", "target", "expect", "tier", "timeout"}
EDIT_KEYS = {"file", "find", "replace", "count"}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DEFAULT_TIMEOUT = 300
# Folders git ignores that the targets need: installed npm packages the Node checks import. They are copied into the
# scratch copy, never linked: a target that runs `npm ci` there (its lockfile newer than the install stamp) would
# empty the repository's own folder through a link.
INSTALLED_DIRS = ("node_modules",)


class CatalogueError(Exception):
    """A catalogue that cannot be run as written (a schema error, not a surviving breakage)."""


@dataclass
class Edit:
    file: str
    find: str
    replace: str
    count: int = 1


@dataclass
class Entry:
    id: str
    claim: str
    edits: list[Edit]
    target: str
    expect: re.Pattern
    tier: str
    timeout: int
    source: str


@dataclass
class Result:
    entry: Entry
    status: str  # caught | SURVIVED | WRONG-REASON | STALE | TIMEOUT
    seconds: float
    detail: str = ""
    output_tail: list[str] = field(default_factory=list)
    cpu: float = 0.0  # user + system seconds of the target and the processes it waited for


def load_catalogue(path: Path) -> list[Entry]:
    """Parses one catalogue file strictly: unknown keys, missing keys and bad values are errors."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CatalogueError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, list) or not data:
        raise CatalogueError(f"{path}: must be a non-empty YAML list of entries")
    entries = []
    for i, raw in enumerate(data):
        where = f"{path.name}[{i}]"
        if not isinstance(raw, dict):
            raise CatalogueError(f"{where}: an entry must be a mapping")
        unknown = set(raw) - ENTRY_KEYS
        missing = {"id", "claim", "edits", "target", "expect", "tier"} - set(raw)
        if unknown or missing:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
        eid = raw["id"]
        if not isinstance(eid, str) or not ID_RE.match(eid):
            raise CatalogueError(f"{where}: id {eid!r} must be kebab-case")
        where = f"{path.name}:{eid}"
        for key in ("claim", "target", "expect"):
            if not isinstance(raw[key], str) or not raw[key].strip():
                raise CatalogueError(f"{where}: {key} must be a non-empty string")
        if raw["tier"] not in TIERS:
            raise CatalogueError(f"{where}: tier must be one of {TIERS}")
        timeout = raw.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(timeout, int) or not 1 <= timeout <= 1800:
            raise CatalogueError(f"{where}: timeout must be whole seconds between 1 and 1800")
        try:
            expect = re.compile(raw["expect"])
        except re.error as e:
            raise CatalogueError(f"{where}: expect is not a valid regex: {e}") from e
        if not isinstance(raw["edits"], list) or not raw["edits"]:
            raise CatalogueError(f"{where}: edits must be a non-empty list")
        edits = []
        for j, e in enumerate(raw["edits"]):
            if not isinstance(e, dict) or set(e) - EDIT_KEYS or {"file", "find", "replace"} - set(e):
                raise CatalogueError(f"{where}: edits[{j}] needs file, find, replace (and optional count) only")
            if not all(isinstance(e[k], str) for k in ("file", "find", "replace")) or not e["find"]:
                raise CatalogueError(f"{where}: edits[{j}]: file, find, replace must be strings, find non-empty")
            if e["find"] == e["replace"]:
                raise CatalogueError(f"{where}: edits[{j}]: replace equals find, so nothing would be broken")
            count = e.get("count", 1)
            if not isinstance(count, int) or count < 1:
                raise CatalogueError(f"{where}: edits[{j}]: count must be a positive integer")
            edits.append(Edit(e["file"], e["find"], e["replace"], count))
        entries.append(Entry(eid, raw["claim"].strip(), edits, raw["target"].strip(), expect, raw["tier"],
                             timeout, path.name))
    return entries


def load_all(paths: list[Path]) -> list[Entry]:
    if not paths:
        raise CatalogueError(f"no catalogue files (drill/catalogue/*.yaml)")
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for p in paths:
        for e in load_catalogue(p):
            if e.id in seen:
                raise CatalogueError(f"id {e.id} appears in {seen[e.id]} and {e.source}")
            seen[e.id] = e.source
            entries.append(e)
    return entries


def repo_files(root: Path) -> list[str]:
    """Tracked files plus untracked ones that are not ignored: what a commit of the working tree would hold."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, check=True, capture_output=True).stdout
    return sorted({f for f in out.decode().split("\0") if f and (root / f).is_file()})


def make_scratch(root: Path, dest: Path) -> None:
    """Copies the repository's files to dest as a git repository of its own (targets may ask git what is
    tracked, as in a clone), and a copy of each installed node_modules folder (links inside kept as links)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for rel in repo_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    git = ["git", "-c", "user.name=drill", "-c", "user.email=drill@localhost", "-c", "commit.gpgsign=false"]
    subprocess.run(git + ["init", "-q"], cwd=dest, check=True)
    (dest / ".git" / "info" / "exclude").write_text("\n".join(INSTALLED_DIRS) + "\n", encoding="utf-8")
    subprocess.run(git + ["add", "-A"], cwd=dest, check=True)
    subprocess.run(git + ["commit", "-q", "-m", "drill scratch copy"], cwd=dest, check=True)
    for dirpath, dirnames, _ in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for name in [d for d in dirnames if d in INSTALLED_DIRS]:
            copy = dest / rel / name
            if copy.parent.is_dir() and not copy.exists():
                shutil.copytree(Path(dirpath) / name, copy, symlinks=True)
        # Never descend into build output, git's store or the installed folders themselves.
        dirnames[:] = [d for d in dirnames if d not in INSTALLED_DIRS and d not in (".git", "target")]


# Process groups of the targets running now, killed if the drill itself is stopped (SIGTERM, Ctrl-C).
RUNNING: set[int] = set()
STOPPING = threading.Event()


def stop_running(signum=None, frame=None) -> None:
    STOPPING.set()
    for pgid in list(RUNNING):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if signum is not None:
        raise SystemExit(128 + signum)


def run_target(command: str, cwd: Path, timeout: int) -> tuple[int | None, str, float, float]:
    """Runs a target command with bash in its own process group; returns (exit code or None on timeout, output,
    wall seconds, CPU seconds). The CPU figure (user + system of the target and every process it waited for, from
    wait4) is the one to compare on a shared machine, where the wall time grows with the load."""
    env = dict(os.environ, DRILL="1")
    start = time.monotonic()
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    RUNNING.add(proc.pid)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    code: int | None = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, _, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    finally:
        RUNNING.discard(proc.pid)
    proc.returncode = -1 if code is None else code  # reaped here by wait4, not by Popen
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # what the target left running in its group
    except ProcessLookupError:
        pass
    reader.join()
    proc.stdout.close()
    return code, b"".join(chunks).decode(errors="replace"), time.monotonic() - start, usage.ru_utime + usage.ru_stime


def plant(scratch: Path, entry: Entry) -> dict[Path, bytes]:
    """Applies an entry's edits; returns the original bytes of every file touched. Raises CatalogueError if stale."""
    originals: dict[Path, bytes] = {}
    try:
        for edit in entry.edits:
            path = scratch / edit.file
            if not path.is_file():
                raise CatalogueError(f"{edit.file} does not exist")
            originals.setdefault(path, path.read_bytes())
            text = path.read_text(encoding="utf-8")
            found = text.count(edit.find)
            if found != edit.count:
                raise CatalogueError(f"{edit.file}: {edit.find!r} occurs {found} times, the entry expects {edit.count}")
            path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")
    except CatalogueError:
        restore(originals)
        raise
    return originals


def restore(originals: dict[Path, bytes]) -> None:
    for path, data in originals.items():
        path.write_bytes(data)


def tail(text: str, n: int = 15) -> list[str]:
    return [line[:300] for line in text.rstrip().splitlines()[-n:]]


def judge(e: Entry, scratch: Path, log_dir: Path) -> Result:
    """Plants one entry in the scratch copy, runs its target, restores the files and gives the verdict."""
    try:
        originals = plant(scratch, e)
    except CatalogueError as err:
        return Result(e, "STALE", 0.0, str(err))
    try:
        code, out, secs, cpu = run_target(e.target, scratch, e.timeout)
    finally:
        restore(originals)
    (log_dir / f"{e.id}.log").write_text(f"$ {e.target}\n{out}", encoding="utf-8")
    if code is None:
        return Result(e, "TIMEOUT", secs, f"no verdict within {e.timeout} s", tail(out), cpu)
    if code == 0:
        return Result(e, "SURVIVED", secs, "the target passed with the breakage planted", tail(out), cpu)
    if not e.expect.search(out):
        return Result(e, "WRONG-REASON", secs, f"failed (exit {code}) but output lacks /{e.expect.pattern}/",
                      tail(out), cpu)
    return Result(e, "caught", secs, cpu=cpu)


def run(entries: list[Entry], scratches: list[Path], log_dir: Path) -> tuple[list[Result], list[str]]:
    """Per distinct target: one baseline run on the unmodified copy, then its entries one by one. With several
    scratch copies, each worker takes whole targets, so a target never runs twice at once (fixed ports, shared
    files); targets run in catalogue order. Returns the results (in catalogue order) and the baseline failures;
    a target whose baseline fails has no verdicts."""
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    groups: dict[str, list[Entry]] = {}
    for e in entries:
        groups.setdefault(e.target, []).append(e)
    queue = list(enumerate(groups.items(), 1))
    lock = threading.Lock()
    results: dict[str, Result] = {}
    baseline_failures: list[str] = []
    done = [0]

    def work(scratch: Path) -> None:
        while True:
            with lock:
                if not queue or STOPPING.is_set():
                    return
                i, (command, group) = queue.pop(0)
            try:
                drill_target(i, command, group, scratch)
            except Exception as err:  # noqa: BLE001 (a worker must not die silently: its target would have no verdict)
                with lock:
                    baseline_failures.append(f"{command}: the drill itself failed: {err!r}")

    def drill_target(i: int, command: str, group: list[Entry], scratch: Path) -> None:
        timeout = max(e.timeout for e in group)
        print(f"drill: baseline {i}/{len(groups)}: {command}", flush=True)
        code, out, secs, cpu = run_target(command, scratch, timeout)
        (log_dir / f"baseline-{i}.log").write_text(f"$ {command}\n{out}", encoding="utf-8")
        print(f"drill: baseline {i}/{len(groups)}: {secs:.0f} s, CPU {cpu:.0f} s", flush=True)
        if code != 0:
            why = "timed out" if code is None else f"exit {code}"
            with lock:
                baseline_failures.append(f"{command} ({why} on the unmodified copy after {secs:.0f} s)\n    "
                                         + "\n    ".join(tail(out)))
            return
        for e in group:
            if STOPPING.is_set():
                return
            r = judge(e, scratch, log_dir)
            with lock:
                results[e.id] = r
                done[0] += 1
                print(f"drill: {done[0]}/{len(entries)} {e.id}: {r.status}, {r.seconds:.0f} s, CPU {r.cpu:.0f} s",
                      flush=True)

    workers = [threading.Thread(target=work, args=(s,), daemon=True) for s in scratches]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    missing = [e.id for e in entries if e.id not in results]
    if missing and not baseline_failures:
        baseline_failures.append(f"no verdict for {', '.join(missing)}")
    if baseline_failures:
        return [], baseline_failures
    return [results[e.id] for e in entries], []


def report(results: list[Result], summary_path: Path) -> bool:
    width = max(len(r.entry.id) for r in results)
    print()
    print(f"{'breakage':<{width}}  {'tier':<5}  {'result':<12}  {'s':>5}  {'cpu s':>5}  target")
    for r in results:
        print(f"{r.entry.id:<{width}}  {r.entry.tier:<5}  {r.status:<12}  {r.seconds:>5.0f}  {r.cpu:>5.0f}  {r.entry.target}")
    bad = [r for r in results if r.status != "caught"]
    for r in bad:
        print(f"\n{r.status}: {r.entry.id} ({r.entry.source}) — {r.entry.claim}\n  {r.detail}")
        for line in r.output_tail:
            print(f"    {line}")
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps({
        "entries": len(results),
        "caught": len(results) - len(bad),
        "results": [{"id": r.entry.id, "catalogue": r.entry.source, "tier": r.entry.tier, "target": r.entry.target,
                     "status": r.status, "seconds": round(r.seconds, 1), "cpu_seconds": round(r.cpu, 1),
                     "claim": r.entry.claim} for r in results],
    }, indent=2) + "\n", encoding="utf-8")
    print(f"\ndrill: {len(results) - len(bad)} of {len(results)} breakages caught; summary {summary_path}")
    return not bad


# The README states the catalogue's size between these markers: "<N> breakages: <Q> quick ... and <S> slow".
COUNT_RE = re.compile(r"<!-- drill-count -->(\d+) breakages: (\d+) quick.*?(\d+) slow.*?<!-- /drill-count -->", re.S)


def readme_count_problem(text: str, entries: list[Entry]) -> str | None:
    """None when the README's stated counts are the catalogue's and every entry id its tables name (last cell
    of a row linking drill/catalogue/, globs allowed: `k8s-netpol-*`) matches an entry, else a one-line message."""
    ids = [e.id for e in entries]
    for row in (line for line in text.splitlines() if line.startswith("|") and "drill/catalogue/" in line):
        for named in re.findall(r"`([a-z0-9*]+(?:-[a-z0-9*]+)+)`", row.rstrip().rstrip("|").rsplit("|", 1)[-1]):
            if not fnmatch.filter(ids, named):
                return f"it names drill entry {named}, which no catalogue holds"
    m = COUNT_RE.search(text)
    if not m:
        return "no '<!-- drill-count -->N breakages: Q quick ... S slow<!-- /drill-count -->' statement found"
    stated = tuple(int(g) for g in m.groups())
    quick = sum(e.tier == "quick" for e in entries)
    real = (len(entries), quick, len(entries) - quick)
    if stated != real:
        return (f"it says {stated[0]} breakages ({stated[1]} quick, {stated[2]} slow), the catalogue holds "
                f"{real[0]} ({real[1]} quick, {real[2]} slow): update the drill-count statement")
    return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tier", choices=("quick", "all"), default="quick",
                    help="quick: entries whose target takes seconds (make test); all: every entry")
    ap.add_argument("--catalogue", action="append", type=Path, help="only this catalogue file (repeatable)")
    ap.add_argument("--only", action="append", help="only the entry with this id (repeatable; any tier)")
    ap.add_argument("--list", action="store_true", help="list the entries and exit")
    ap.add_argument("--check-readme", type=Path, metavar="FILE",
                    help="check that FILE states the catalogue's size (all, quick, slow) and names only existing entries")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy after the run")
    ap.add_argument("--jobs", type=int, default=1, metavar="N",
                    help="targets run at once, each in a scratch copy of its own (default 1)")
    ap.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)  # the self-test's fixture repo
    args = ap.parse_args(argv)
    root = args.root.resolve()

    try:
        paths = [p.resolve() for p in args.catalogue] if args.catalogue else sorted((root / CATALOGUE_DIR).glob("*.yaml"))
        entries = load_all(paths)
    except (CatalogueError, OSError) as e:
        print(f"drill: error: {e}", file=sys.stderr)
        return 2
    if args.check_readme:
        try:
            problem = readme_count_problem(args.check_readme.read_text(encoding="utf-8"), entries)
        except OSError as e:
            problem = str(e)
        if problem:
            print(f"drill: error: {args.check_readme}: {problem}", file=sys.stderr)
            return 1
        print(f"drill: {args.check_readme} states the catalogue's size ({len(entries)} breakages) and names only its entries")
        return 0
    if args.only:
        unknown = set(args.only) - {e.id for e in entries}
        if unknown:
            print(f"drill: error: no entry with id {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        entries = [e for e in entries if e.id in args.only]
    elif args.tier == "quick":
        entries = [e for e in entries if e.tier == "quick"]
    if not entries:
        print("drill: error: the selection holds no entry (a drill over nothing proves nothing)", file=sys.stderr)
        return 2
    if args.list:
        for e in entries:
            print(f"{e.id}\t{e.tier}\t{e.source}\t{e.target}\t{e.claim}")
        return 0

    started = time.monotonic()
    work = root / WORK_DIR
    if not 1 <= args.jobs <= 8:
        print("drill: error: --jobs must be between 1 and 8", file=sys.stderr)
        return 2
    scratches = [work / "scratch"] + [work / f"scratch-{n}" for n in range(2, min(args.jobs, len(entries)) + 1)]
    # One run per tree: a second one would delete the first one's scratch copy under its targets.
    work.mkdir(parents=True, exist_ok=True)
    lock = open(work / ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        print(f"drill: error: another drill run is using {work}; wait for it to end", file=sys.stderr)
        return 2
    with lock:
        return drill_run(entries, root, work, scratches, started, args.keep)


def drill_run(entries: list[Entry], root: Path, work: Path, scratches: list[Path], started: float, keep: bool) -> int:
    previous = signal.signal(signal.SIGTERM, stop_running)
    STOPPING.clear()
    try:
        for scratch in scratches:
            make_scratch(root, scratch)
        results, baseline_failures = run(entries, scratches, work / "logs")
    finally:
        stop_running()
        signal.signal(signal.SIGTERM, previous)
        if not keep:
            for scratch in scratches:
                shutil.rmtree(scratch, ignore_errors=True)
    if baseline_failures:
        (work / "summary.json").unlink(missing_ok=True)
        print("drill: error: these targets fail on the unmodified copy, so they cannot show a breakage:",
              file=sys.stderr)
        for f in baseline_failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    ok = report(results, work / "summary.json")
    print(f"drill: {time.monotonic() - started:.0f} s in all")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
