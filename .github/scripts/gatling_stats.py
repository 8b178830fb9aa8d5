#!/usr/bin/env python3
"""Key numbers of Gatling HTML reports, for CI job summaries and the error-rate gate.

Gatling reports: https://docs.gatling.io/reference/stats/reports/
Gatling 3.12 and later write no JSON statistics: the numbers live in the "All Requests" row (id ROOT) of
the statistics table in each report's index.html, whose columns are named by the header cells
(Total, OK, KO, % KO, Cnt/s, Min, <N>th pct ..., Max, Mean, Std Dev). Columns are found by those names,
so the percentiles the load test configures in gatling.conf do not matter as long as 50, 95 and 99 are
among them. An older report's js/global_stats.json is read when there is one.

  gatling_stats.py summary RESULTS_DIR             markdown table, one row per report, oldest first; then
                                                   the load test's own verdict of its last run, when
                                                   RESULTS_DIR/../loadtest-summary.properties exists
  gatling_stats.py check RESULTS_DIR MAX_ERROR_PCT  exit 1 when the newest report failed more than that
"""
import json
import sys
from html.parser import HTMLParser
from pathlib import Path


class StatsTable(HTMLParser):
    """Collects the header names (by col-N id) and the ROOT row's values (by col-N class)."""

    def __init__(self):
        super().__init__()
        self.headers = {}  # "col-10" -> "95th pct"
        self.root = {}  # "col-10" -> "75"
        self._header_col = None
        self._in_root = False
        self._value_col = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "th" and (a.get("id") or "").startswith("col-"):
            self._header_col = a["id"]
            self.headers[self._header_col] = ""
        elif tag == "tr":
            self._in_root = a.get("id") == "ROOT"
        elif tag == "td" and self._in_root:
            classes = (a.get("class") or "").split()
            cols = [c for c in classes if c.startswith("col-")]
            self._value_col = cols[0] if "value" in classes and cols else None

    def handle_endtag(self, tag):
        if tag == "th":
            self._header_col = None
        elif tag == "td":
            self._value_col = None
        elif tag == "tr":
            self._in_root = False

    def handle_data(self, data):
        if self._header_col:
            self.headers[self._header_col] += data.strip()
        elif self._value_col:
            self.root[self._value_col] = self.root.get(self._value_col, "") + data.strip()


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_report(report):
    """{requests, ko, ko_pct, rps, p50, p95, p99, max} of one report folder, or None if it has no statistics."""
    legacy = report / "js" / "global_stats.json"
    if legacy.is_file():
        s = json.loads(legacy.read_text())
        total, ko = s["numberOfRequests"]["total"], s["numberOfRequests"]["ko"]
        return {
            "requests": total,
            "ko": ko,
            "ko_pct": ko * 100 / total if total else 0,
            "rps": s["meanNumberOfRequestsPerSecond"]["total"],
            # gatling.conf's default percentile1..4 are 50, 75, 95, 99.
            "p50": s["percentiles1"]["total"],
            "p95": s["percentiles3"]["total"],
            "p99": s["percentiles4"]["total"],
            "max": s["maxResponseTime"]["total"],
        }
    index = report / "index.html"
    if not index.is_file():
        return None
    table = StatsTable()
    table.feed(index.read_text(encoding="utf-8", errors="replace"))
    by_name = {name: number(table.root.get(col, "")) for col, name in table.headers.items()}
    wanted = {"requests": "Total", "ko": "KO", "ko_pct": "% KO", "rps": "Cnt/s",
              "p50": "50th pct", "p95": "95th pct", "p99": "99th pct", "max": "Max"}
    stats = {key: by_name.get(name) for key, name in wanted.items()}
    if stats["requests"] is None:
        return None
    missing = [wanted[k] for k, v in stats.items() if v is None]
    if missing:
        raise SystemExit(f"{index}: no {', '.join(missing)} in the All Requests row")
    return stats


def reports(results):
    """(folder, stats) of every report under RESULTS_DIR, oldest first (by modification time, then name)."""
    root = Path(results)
    if not root.is_dir():
        raise SystemExit(f"no Gatling results folder: {results}")
    found = []
    for folder in root.iterdir():
        stats = read_report(folder) if folder.is_dir() else None
        if stats is not None:
            marker = folder / "index.html" if (folder / "index.html").exists() else folder / "js" / "global_stats.json"
            found.append((marker.stat().st_mtime, folder.name, stats))
    if not found:
        raise SystemExit(f"no Gatling report under {results}")
    return [(name, stats) for _, name, stats in sorted(found)]


def fmt(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def read_properties(path):
    """A flat Java .properties file (key=value lines, # comments, backslash escapes) as a dict."""
    props = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#!" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        props[key.strip()] = value.strip().replace("\\:", ":").replace("\\=", "=").replace("\\\\", "\\")
    return props


def summary(results):
    print("| Run | Requests | Failed | Error % | Mean RPS | p50 ms | p95 ms | p99 ms | Max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in reports(results):
        cells = [int(s["requests"]), int(s["ko"]), round(s["ko_pct"], 2), round(s["rps"], 2),
                 s["p50"], s["p95"], s["p99"], s["max"]]
        print(f"| {name} | " + " | ".join(fmt(c) for c in cells) + " |")
    # The load test's ledger of its last run (loadtest/: SloLedger): profile, and for stress the capacity found.
    ledger = Path(results).parent / "loadtest-summary.properties"
    if ledger.is_file():
        p = read_properties(ledger)
        print()
        print(f"Last run: profile **{p.get('profile', '?')}** against {p.get('baseUrl', '?')}: "
              f"{p.get('requests', '?')} requests, p95 {p.get('p95Ms', '?')} ms, p99 {p.get('p99Ms', '?')} ms, "
              f"failed {p.get('failedPct', '?')}.")
        if "capacity.rps" in p:
            print(f"Capacity within the SLO: **{p['capacity.rps']} req/s** ({p.get('capacity.step', '?')}, "
                  f"p95 {p.get('capacity.p95Ms', '?')} ms, failed {p.get('capacity.failedPct', '?')}); "
                  f"limit found: {p.get('capacity.limitFound', '?')}"
                  + (f" ({p['capacity.brokenBy']})" if "capacity.brokenBy" in p else "") + ".")


def check(results, max_pct):
    name, s = reports(results)[-1]
    if s["requests"] > 0 and s["ko"] * 100 / s["requests"] <= max_pct:
        print(f"error rate within SLO (<= {fmt(max_pct)} %): {name}: {int(s['ko'])} of {int(s['requests'])} failed")
        return 0
    print(f"error rate above SLO (> {fmt(max_pct)} %) or no requests: {name}: "
          f"{int(s['ko'])} of {int(s['requests'])} failed", file=sys.stderr)
    return 1


def main(argv):
    if len(argv) == 3 and argv[1] == "summary":
        summary(argv[2])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], float(argv[3]))
    print("usage: gatling_stats.py summary RESULTS_DIR | check RESULTS_DIR MAX_ERROR_PCT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
