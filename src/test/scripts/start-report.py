#!/usr/bin/env python3
"""Start-to-ready helpers of bench.sh (its start section and `make bench-start`, loadtest/README.md "Start to ready").

  start-report.py phases PID CLK_TCK SERVICE_LOG READY_EPOCH
      where a start's wall time went, JSON: "jvm" (the process's start to Quarkus's own start: JVM creation, the
      launcher, loading the main class), "quarkus" (Quarkus's "started in": build-time-recorded steps, the pool,
      Flyway, the HTTP servers) and "to_ready" (from the "started in" log line to READY_EPOCH, when the readiness
      check first answered UP: that check, database included, and the poll interval). The process's start comes
      from /proc (its starttime after boot, 1/CLK_TCK s), the end of Quarkus's start from the timestamp of its
      "started in" log line. The three add up to the time from the process's start, which on a busy machine is
      longer than the ready figure local-service.sh prints (its clock starts after it has launched the JVM).
  start-report.py report RAW.jsonl
      the medians of the start lines of RAW by configuration ("A": the image's flags; "B": the image's flags plus
      START_B_OPTS): ready, CPU when ready, its split by thread kind and the phases, and B against A.
"""
import datetime
import json
import re
import sys


def die(msg):
    sys.exit(f"start-report: {msg}")


def median(values):
    return sorted(values)[len(values) // 2]


def process_start_epoch(pid, clk_tck, proc="/proc"):
    with open(f"{proc}/stat", encoding="utf-8") as f:
        btime = int(re.search(r"^btime (\d+)$", f.read(), re.M).group(1))
    with open(f"{proc}/{pid}/stat", encoding="utf-8") as f:
        stat = f.read()
    starttime = int(stat[stat.rindex(")") + 2:].split()[19])  # field 22 of proc(5)
    return btime + starttime / int(clk_tck)


def started_line(log):
    """(epoch seconds, "started in" seconds) of the last "started in" line of a JSON-lines service log."""
    found = None
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r" started in ([\d.]+)s\.", line)
            if not m or not line.startswith("{"):
                continue
            stamp = json.loads(line)["timestamp"]
            # Nanosecond stamps: Python parses at most microseconds.
            stamp = re.sub(r"(\.\d{6})\d*", r"\1", stamp).replace("Z", "+00:00")
            found = (datetime.datetime.fromisoformat(stamp).timestamp(), float(m.group(1)))
    if not found:
        die(f"no 'started in' line in {log}")
    return found


def phases(pid, clk_tck, log, ready_epoch, proc="/proc"):
    start = process_start_epoch(pid, clk_tck, proc)
    at, started_in = started_line(log)
    jvm = at - start - started_in
    result = {"jvm": round(jvm, 2), "quarkus": round(started_in, 2), "to_ready": round(float(ready_epoch) - at, 2)}
    print(json.dumps(result))
    return result


def summarise(runs):
    out = {"starts": len(runs), "ready_s": median([r["ready_s"] for r in runs]),
           "cpu_s": median([r["cpu_s"] for r in runs])}
    for key in ("threads_cpu_s", "phases_s"):
        if all(r.get(key) for r in runs):
            out[key] = {k: median([r[key][k] for r in runs]) for k in runs[0][key]}
    out["aot_cache_used"] = all(r.get("aot_cache_used") is True for r in runs)
    return out


def split(d):
    return ", ".join(f"{k} {v:.2f} s" for k, v in d.items())


def report(raw):
    runs = [json.loads(line) for line in open(raw, encoding="utf-8") if line.strip()]
    runs = [r for r in runs if r.get("case") == "start"]
    if not runs:
        die(f"no start lines in {raw}")
    configs = {}
    for r in runs:
        configs.setdefault(r.get("config", "A"), []).append(r)
    medians = {name: summarise(rs) for name, rs in sorted(configs.items())}
    for name, m in medians.items():
        opts = configs[name][0].get("extra_opts", "")
        print(f"start {name}{' (+ ' + opts + ')' if opts else ' (the image flags)'}: {m['starts']} starts, medians:")
        print(f"  ready {m['ready_s']:.2f} s, CPU when ready {m['cpu_s']:.2f} s"
              + ("" if m["aot_cache_used"] else " -- the JVM did not log 'Using AOT-linked classes: true' in every start (target/bench/start-<run><config>-aot.log)"))
        if "threads_cpu_s" in m:
            print(f"  by thread: {split(m['threads_cpu_s'])}")
        if "phases_s" in m:
            print(f"  by phase (wall): {split(m['phases_s'])}")
    if {"A", "B"} <= set(medians):
        a, b = medians["A"], medians["B"]
        print(f"B - A: ready {b['ready_s'] - a['ready_s']:+.2f} s, CPU when ready {b['cpu_s'] - a['cpu_s']:+.2f} s"
              + (", " + ", ".join(f"{k} {b['threads_cpu_s'][k] - v:+.2f} s" for k, v in a["threads_cpu_s"].items())
                 if "threads_cpu_s" in a and "threads_cpu_s" in b else ""))
    return medians


def main():
    commands = {"phases": (phases, 4), "report": (report, 1)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        die("usage: see the module docstring")
    commands[sys.argv[1]][0](*sys.argv[2:])


if __name__ == "__main__":
    main()
