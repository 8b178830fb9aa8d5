#!/usr/bin/env python3
"""Derive a Prometheus configuration from observability/prometheus/prometheus.yml for local use.

Two uses (both by observability/observability.mk):
  * --compat: the same configuration, loadable by Prometheus/promtool 2.42 (Debian's package): `scrape_protocols`
    blocks (a 2.49+ key) are removed; their value equals 2.42's built-in negotiation order, so nothing else changes.
  * --target HOST:PORT=NEWHOST:NEWPORT (repeatable): live verification on loopback. Jobs whose targets are all
    mapped are kept with the new addresses; jobs with any unmapped target (components that do not run here) are
    dropped and reported on stderr.
Rule files are rewritten to absolute paths so the output can live anywhere (a temp dir).

Only the standard library: the compose file is plain, regular YAML (two-space indentation, one
`- targets: [...]` line per static config), which this rewriting relies on and checks.
Configuration reference: https://prometheus.io/docs/prometheus/latest/configuration/configuration/
"""
import argparse
import os
import re
import sys

JOB_RE = re.compile(r"^  - job_name:\s*(\S+)\s*$")
TARGETS_RE = re.compile(r"^(\s+- targets:\s*)\[(.*)\]\s*$")


def split_jobs(lines):
    """Return (head, [(job_name, job_lines)]) where head is everything before the first job."""
    head, jobs, current = [], [], None
    for line in lines:
        m = JOB_RE.match(line)
        if m:
            current = (m.group(1), [line])
            jobs.append(current)
        elif current is None:
            head.append(line)
        else:
            current[1].append(line)
    return head, jobs


def drop_block(lines, key):
    """Remove `key:` and the more indented lines under it (plus the comment lines right above it)."""
    out, skip_indent = [], None
    for line in lines:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if skip_indent is not None:
            if stripped and indent > skip_indent:
                continue
            skip_indent = None
        if stripped.startswith(key + ":"):
            skip_indent = indent
            while out and out[-1].strip().startswith("#") and len(out[-1]) - len(out[-1].lstrip()) == indent:
                out.pop()
            continue
        out.append(line)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", help="observability/prometheus/prometheus.yml")
    ap.add_argument("--compat", action="store_true", help="remove keys Prometheus 2.42 does not know")
    ap.add_argument("--target", action="append", default=[], help="HOST:PORT=NEWHOST:NEWPORT")
    ap.add_argument("--interval", help="override global scrape_interval and evaluation_interval (e.g. 5s)")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()

    src_dir = os.path.dirname(os.path.abspath(args.config))
    with open(args.config, encoding="utf-8") as f:
        lines = f.read().splitlines()

    if args.compat or args.target:
        lines = drop_block(lines, "scrape_protocols")

    mapping = dict(t.split("=", 1) for t in args.target)
    head, jobs = split_jobs(lines)
    if not jobs:
        sys.exit(f"gen_local_config: no '  - job_name:' lines in {args.config}")

    out = []
    in_rules = False
    for line in head:
        if args.interval and re.match(r"^  (scrape|evaluation)_interval:", line):
            line = re.sub(r":\s*\S+", f": {args.interval}", line, count=1)
        if args.interval and re.match(r"^  scrape_timeout:", line):
            line = re.sub(r":\s*\S+", f": {args.interval}", line, count=1)
        if line.startswith("rule_files:"):
            in_rules = True
        elif in_rules and re.match(r"^  - ", line):
            path = line.split("-", 1)[1].strip().strip("\"'")
            line = f"  - {os.path.join(src_dir, path)}"
        elif line and not line.startswith(" "):
            in_rules = False
        out.append(line)

    kept = []
    for name, body in jobs:
        targets_lines = [i for i, l in enumerate(body) if TARGETS_RE.match(l)]
        if mapping and not targets_lines:
            print(f"gen_local_config: job {name} dropped (no static '- targets: [...]' line)", file=sys.stderr)
            continue
        if mapping:
            new_body, complete = list(body), True
            for i in targets_lines:
                m = TARGETS_RE.match(body[i])
                addrs = [a.strip().strip("\"'") for a in m.group(2).split(",") if a.strip()]
                if not all(a in mapping for a in addrs):
                    complete = False
                    break
                new_body[i] = m.group(1) + "[" + ", ".join(f'"{mapping[a]}"' for a in addrs) + "]"
            if not complete:
                print(f"gen_local_config: job {name} dropped (target not running here)", file=sys.stderr)
                continue
            body = new_body
        kept.append(name)
        out.extend(body)

    with open(args.output, "w", encoding="utf-8") as f:
        f.write("# Generated by observability/tests/gen_local_config.py from " + args.config + "; do not edit.\n")
        f.write("\n".join(out) + "\n")
    print(f"gen_local_config: wrote {args.output} (jobs: {', '.join(kept)})", file=sys.stderr)


if __name__ == "__main__":
    main()
