#!/usr/bin/env python3
"""Derive the metric families kube-state-metrics serves, with their label names, from its own documentation at a tag.

    python3 observability/tests/third-party/derive_kube_state_metrics.py --git-dir DIR --tag v2.15.0 > FILE

DIR is a clone of https://github.com/kubernetes/kube-state-metrics. Reads every docs/metrics/**/<resource>-metrics.md
table row (metric name, type, labels in backticks, status) and keeps a row only if the metric name also appears
as a string literal in internal/store/<resource>.go at the same tag (documentation that the code does not back is
reported on stderr and left out). Output: tab-separated, one metric a line, columns
metric, type, resource (the --resources name that enables it), labels (comma-separated), status.
"""
import argparse
import re
import subprocess
import sys


def git(git_dir, *args):
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--tag", required=True)
    args = ap.parse_args()
    docs = [p for p in git(args.git_dir, "ls-tree", "-r", "--name-only", args.tag, "docs/metrics").split()
            if p.endswith("-metrics.md")]
    rows, undocumented_in_code = [], []
    for doc in sorted(docs):
        resource = doc.rsplit("/", 1)[1][: -len("-metrics.md")]
        try:
            code = git(args.git_dir, "show", f"{args.tag}:internal/store/{resource}.go")
        except subprocess.CalledProcessError:
            continue  # no store of that name (e.g. customresourcestate): not a built-in resource
        cols = None  # column positions, from each table's header row (the docs order them differently)
        for line in git(args.git_dir, "show", f"{args.tag}:{doc}").splitlines():
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]  # "\|" is a pipe in a cell
            if cells and cells[0].lower().startswith("metric name"):
                head = [c.lower() for c in cells]
                cols = {k: next(i for i, h in enumerate(head) if h.startswith(k)) for k in ("metric type", "label", "status")}
                continue
            if cols is None or not re.fullmatch(r"kube_[a-z0-9_]+", cells[0]) or len(cells) <= max(cols.values()):
                continue
            name, mtype, labels, status = cells[0], cells[cols["metric type"]], cells[cols["label"]], cells[cols["status"]]
            if f'"{name}"' not in code:
                undocumented_in_code.append(name)
                continue
            label_names = sorted(set(re.findall(r"`([a-zA-Z_][a-zA-Z0-9_]*)`\s*=", labels)))
            plural = (resource[:-1] + "ies" if resource.endswith("y") else resource + ("es" if resource.endswith("s") else "s"))
            rows.append((name, mtype.lower(), plural, ",".join(label_names), status.lower()))
    for name in undocumented_in_code:
        print(f"derive: {name} is documented but not in internal/store at {args.tag}; left out", file=sys.stderr)
    if not rows:
        sys.exit("derive: no metric found; is --git-dir a kube-state-metrics clone and --tag a release tag?")
    print("# metric\ttype\tresource\tlabels\tstatus")
    for row in sorted(set(rows)):
        print("\t".join(row))


if __name__ == "__main__":
    main()
