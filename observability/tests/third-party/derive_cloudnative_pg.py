#!/usr/bin/env python3
"""Prints the metric names CloudNativePG instances export on their metrics port (9187), derived from a clone of
https://github.com/cloudnative-pg/cloudnative-pg at a release tag:

  cnpg_collector_<name>       the instance manager's collector: every Name of a metric with Subsystem "collector" in
                              pkg/management/postgres/webserver/metricserver/pg_collector.go (namespace cnpg);
  cnpg_<query>_<column>       the default monitoring queries of the ConfigMap cnpg-default-monitoring in the release
                              manifest releases/cnpg-<version>.yaml: one metric per COUNTER, GAUGE or MAPPEDMETRIC
                              column, three (_bucket, _sum, _count) per HISTOGRAM; LABEL columns become labels.

Usage: derive_cloudnative_pg.py --git-dir CLONE/.git --tag v1.30.0 > cloudnative-pg-v1.30.0/metrics.txt
Naming rules: https://cloudnative-pg.io/documentation/1.30/monitoring/ (user-defined metrics).
"""
import argparse
import re
import subprocess
import sys

import yaml


def show(git_dir, tag, path):
    return subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{tag}:{path}"], check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--tag", required=True, help="release tag, e.g. v1.30.0")
    args = ap.parse_args()
    version = args.tag.lstrip("v")
    names = set()
    collector = show(args.git_dir, args.tag, "pkg/management/postgres/webserver/metricserver/pg_collector.go")
    names |= {f"cnpg_collector_{n}" for n in re.findall(r'Subsystem:\s*subsystem,\s*Name:\s*"([a-z0-9_]+)"', collector)}
    manifest = yaml.safe_load_all(show(args.git_dir, args.tag, f"releases/cnpg-{version}.yaml"))
    config = next(d for d in manifest if d and d.get("kind") == "ConfigMap" and d["metadata"]["name"] == "cnpg-default-monitoring")
    for query, spec in yaml.safe_load(config["data"]["queries"]).items():
        for column in spec["metrics"]:
            for name, desc in column.items():
                usage = desc["usage"]
                if usage in ("COUNTER", "GAUGE", "MAPPEDMETRIC"):
                    names.add(f"cnpg_{query}_{name}")
                elif usage == "HISTOGRAM":
                    names |= {f"cnpg_{query}_{name}_{s}" for s in ("bucket", "sum", "count")}
                elif usage not in ("LABEL", "DISCARD"):
                    sys.exit(f"unknown usage {usage} in query {query}")
    if not names:
        sys.exit("no metric names derived")
    print(f"# CloudNativePG {args.tag}: metric names of the instances (port 9187), derived by derive_cloudnative_pg.py")
    print("\n".join(sorted(names)))


if __name__ == "__main__":
    main()
