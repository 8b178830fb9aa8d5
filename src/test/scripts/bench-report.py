#!/usr/bin/env python3
"""Helpers of bench.sh: parse one wrk or pgbench run into a JSON line, read the JVM flags of the Dockerfile's
ENTRYPOINT, and turn the raw lines of a run into the table and target/bench/summary.json.

A start-to-ready figure is published only when the JVM reported using the AOT cache in every start
(aot_cache_used in the start lines). A figure is published only when its rounds agree and were warm: the spread (max - min) / min of a case's
per-round values must be at most AGREEMENT (10 %), and every window must have been warm: WARMUP_REQUESTS of
warm-up and a warm-up that ended with the JIT quiet (its compiler threads took at most JIT_QUIET of the service's CPU
in the last warm-up slice: a window measured while C1/C2 still compile pays for the compiler, in one round and not
the next; that was most of the rounds' spread in the runs of 2026-12-01); otherwise the table says "rounds disagree"
or "under-warmed" with the range, and the summary
lists the figure under "disagree" instead of "figures". Ratios (tracing overhead, service versus pgbench) are
derived only from published figures.

Every goal of issue 14 is printed with its verdict: "met", "not met" with the measured reason (the CPU figures
behind it), or "withheld" with the reason (an input figure whose rounds disagreed, was under-warmed, or a start without the AOT cache); the summary holds the same
under "goals". A goal make bench does not measure says which target does.

  bench-report.py entrypoint-flags DOCKERFILE
  bench-report.py pod-jvm-flags MANIFEST       the flags that make a JVM here size itself as the shop's pod does
  bench-report.py warm-up PID URL [HEADER]     drive URL with wrk until the JIT is quiet (below), JSON on stdout
  bench-report.py thread-ticks PID             the CPU ticks of each live thread of PID, JSON (before/after a window)
  bench-report.py wrk-line ROUND CASE CLK_TCK SERVICE_TICKS PG_TICKS RSS_KIB WARMUP_JSON THREADS_BEFORE THREADS_AFTER
                           SATURATED_WRK_OUTPUT|-  < the CPU window's wrk --latency output
  bench-report.py pgbench-line ROUND CLK_TCK PG_TICKS                          < pgbench output
  bench-report.py thread-cpu PID CLK_TCK       the JVM's CPU so far by thread kind (main, jit, gc, other), JSON
  bench-report.py report RAW.jsonl SUMMARY.json CORES CONNECTIONS THREADS DURATION WARMUP ROUNDS ROWS TERM MATCHES JDK FLAGS LOADAVG
"""
import itertools
import json
import os
import re
import subprocess
import sys
import time

AGREEMENT = 0.10

# The goals of issue 14: (key, text, figure it is judged on, the figures that figure is made from, "<=" or ">=",
# the bound). A goal is judged only on a published figure; otherwise it is withheld with its inputs' reason.
GOALS = (
    ("tracing_10_overhead", "tracing at 10 % adds <= 5 % service CPU/request over off",
     "tracing_10_overhead", ("by_id_off_service_cpu_us", "by_id_10_service_cpu_us"), "<=", 0.05),
    ("tracing_100_overhead", "tracing at 100 % adds <= 25 % service CPU/request over off",
     "tracing_100_overhead", ("by_id_off_service_cpu_us", "by_id_100_service_cpu_us"), "<=", 0.25),
    ("by_id_vs_pgbench", "GET by id at 100 % req/s >= 0.5 x pgbench -S tps",
     "by_id_100_rps_over_pgbench_tps", ("by_id_100_rps", "pgbench_tps"), ">=", 0.5),
    ("start_to_ready", "start to ready <= 1.0 s (median, image JVM settings)",
     "start_to_ready_s_median", ("start_to_ready_s",), "<=", 1.0),
    ("search_pg_cpu", "search: PostgreSQL CPU/request <= 200 µs",
     "search_pg_cpu_us", ("search_pg_cpu_us",), "<=", 200.0),
)
# Issue 14's goal that another target measures: named, so the closing note lists every goal.
GOALS_ELSEWHERE = (("capacity", "mixed-traffic capacity per core +50 %", "measured by make capacity, not make bench"),)


def die(msg):
    sys.exit(f"bench-report: {msg}")


def entrypoint_flags(dockerfile):
    text = open(dockerfile, encoding="utf-8").read().replace("\\\n", " ")
    m = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", text, re.M)
    if not m:
        die(f"{dockerfile} has no exec-form ENTRYPOINT")
    argv = json.loads(m.group(1))
    if argv[0] != "java" or "-jar" not in argv:
        die(f"{dockerfile}: ENTRYPOINT is not `java ... -jar ...`: {argv}")
    for flag in argv[1:argv.index("-jar")]:
        print(flag)


# Kubernetes quantity suffixes (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/).
QUANTITY_FACTORS = {"": 1, "k": 1000, "M": 1000 ** 2, "G": 1000 ** 3, "Ki": 1024, "Mi": 1024 ** 2, "Gi": 1024 ** 3}


def pod_jvm_flags(manifest):
    """A JVM in a pod sizes itself from the container's limits (HotSpot reads them from its cgroup: the heap is
    MaxRAMPercentage of the memory limit, the processor count is the CPU limit rounded up); a JVM started here sees
    the whole machine. These flags give it the pod's view, from the shop container's limits in MANIFEST:
    -XX:MaxRAM (the memory limit in bytes) and -XX:ActiveProcessorCount (the CPU limit, rounded up)."""
    import yaml  # PyYAML: toolchain/tools.tsv lists it for every target that sources image-jvm.sh

    with open(manifest, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]
    deploys = [d for d in docs if d.get("kind") == "Deployment" and d.get("metadata", {}).get("name") == "shop"]
    if len(deploys) != 1:
        die(f"{manifest}: want one Deployment shop, found {len(deploys)}")
    containers = [c for c in deploys[0]["spec"]["template"]["spec"]["containers"] if c.get("name") == "shop"]
    limits = (containers[0].get("resources") or {}).get("limits") or {} if containers else {}
    memory, cpu = str(limits.get("memory", "")), str(limits.get("cpu", ""))
    m = re.fullmatch(r"(\d+)(k|M|G|Ki|Mi|Gi)?", memory)
    c = re.fullmatch(r"(\d+(?:\.\d+)?)(m)?", cpu)
    if not m or not c:
        die(f"{manifest}: the shop container needs CPU and memory limits (got cpu {cpu!r}, memory {memory!r})")
    millicores = float(c.group(1)) * (1 if c.group(2) else 1000)
    print(f"-XX:MaxRAM={int(m.group(1)) * QUANTITY_FACTORS[m.group(2) or '']}")
    print(f"-XX:ActiveProcessorCount={max(1, -(-int(millicores) // 1000))}")


# HotSpot's thread names (/proc/PID/task/TID/comm, cut to 15 characters): the java launcher runs the application's
# main method in a thread of its own that HotSpot does not rename, so it is "java" like the launcher's first thread
# (which only waits for it); the JIT's are "C1 CompilerThre" and "C2 CompilerThre"; the collector's start with
# "GC " or "G1 ". Everything else (Vert.x, the pool, OpenTelemetry, VM threads) is other.
THREAD_KINDS = (("main", re.compile(r"java|main")), ("jit", re.compile(r"C[12] CompilerThre.*")),
                ("gc", re.compile(r"(GC|G1) .*")))


def thread_ticks(pid, proc="/proc"):
    """{tid: [kind, utime+stime ticks]} of every live thread of PID."""
    out = {}
    task_dir = os.path.join(proc, str(pid), "task")
    for tid in os.listdir(task_dir):
        try:
            with open(os.path.join(task_dir, tid, "stat"), encoding="utf-8") as f:
                stat = f.read()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        # comm may hold spaces and parentheses: the fields after it start at the last ")".
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        kind = next((k for k, pattern in THREAD_KINDS if pattern.fullmatch(name)), "other")
        out[tid] = [kind, int(fields[11]) + int(fields[12])]  # utime, stime: fields 14 and 15 of proc(5)
    return out


def thread_cpu(pid, clk_tck, proc="/proc"):
    """Seconds of CPU (utime+stime) each kind of thread of PID has used, for the start's "where the time goes"."""
    threads = thread_ticks(pid, proc)
    if not threads:
        die(f"no threads in {os.path.join(proc, str(pid), 'task')}")
    kinds = {kind: 0 for kind, _ in THREAD_KINDS} | {"other": 0}
    for kind, ticks in threads.values():
        kinds[kind] += ticks
    hz = int(clk_tck)
    print(json.dumps({kind: round(ticks / hz, 2) for kind, ticks in kinds.items()}))


# The JIT is quiet when its compiler threads took at most this share of the service's CPU in a warm-up slice.
JIT_QUIET = float(os.environ.get("JIT_QUIET", "0.03"))


def kind_ticks_between(before, after, kind="jit"):
    """Ticks the threads of one kind used between two thread_ticks snapshots. A thread new since `before` counts
    from 0; HotSpot retires idle compiler threads (UseDynamicNumberOfCompilerThreads), and one that ended in between
    is not counted, which only ever hides a thread that had gone idle."""
    return sum(ticks - (before[tid][1] if tid in before else 0) for tid, (k, ticks) in after.items() if k == kind)


def jit_share(jit_ticks, service_ticks):
    return jit_ticks / service_ticks if service_ticks > 0 else 0.0


def warmed(elapsed_s, requests, share, warmup_s, warmup_requests, quiet=JIT_QUIET):
    """Warm-up is over once it has lasted warmup_s, served warmup_requests and its last slice had the JIT quiet."""
    return elapsed_s >= warmup_s and requests >= warmup_requests and share is not None and share <= quiet


def process_ticks(pid, proc="/proc"):
    with open(os.path.join(proc, str(pid), "stat"), encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def warm_up(pid, url, header=""):
    """Drive URL with wrk in slices of WARMUP_SLICE s until warmed() (WARMUP s, WARMUP_REQUESTS, the JIT quiet) or
    WARMUP_MAX s; prints {"requests", "seconds", "jit_share" (of the last slice), "jit_quiet"}."""
    env = os.environ
    warmup_s, warmup_requests = int(env.get("WARMUP", "10")), int(env.get("WARMUP_REQUESTS", "30000"))
    warmup_max, slice_s = int(env.get("WARMUP_MAX", "120")), int(env.get("WARMUP_SLICE", "5"))
    cmd = ["wrk", f"-t{env.get('THREADS', '1')}", f"-c{env.get('CONNECTIONS', '16')}", f"-d{slice_s}s", url]
    if header:
        cmd[1:1] = ["-H", header]
    start, n, share = time.monotonic(), 0, None
    while True:
        s0, t0 = process_ticks(pid), thread_ticks(pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        s1, t1 = process_ticks(pid), thread_ticks(pid)
        m = re.search(r"(\d+) requests in", out)
        if not m:
            die(f"unreadable wrk output:\n{out}")
        n += int(m.group(1))
        share = jit_share(kind_ticks_between(t0, t1), s1 - s0)
        elapsed = time.monotonic() - start
        if warmed(elapsed, n, share, warmup_s, warmup_requests) or elapsed >= warmup_max:
            break
    print(json.dumps({"requests": n, "seconds": round(elapsed), "jit_share": round(share, 3),
                      "jit_quiet": share <= JIT_QUIET}))


def millis(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        die(f"unreadable wrk latency {text!r}")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def wrk_numbers(out):
    reqs = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not (reqs and rps and p50 and p99):
        die(f"unreadable wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": int(reqs.group(1)), "rps": float(rps.group(1)), "p50_ms": millis(p50.group(1)),
            "p99_ms": millis(p99.group(1)), "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else ""}


def wrk_line(round_, case, clk_tck, service_ticks, pg_ticks, rss_kib, warmup_json, threads_before, threads_after,
             saturated="-"):
    """One case's window. stdin is the CPU window's wrk output: paced (wrk-rate.lua) unless the saturated argument
    is "-", when that one window is also the saturated one (PAUSE_MS=0, the method before). CPU per request comes
    from the CPU window; req/s and latency from the saturated window."""
    cpu = wrk_numbers(sys.stdin.read())
    sat = cpu if saturated == "-" else wrk_numbers(saturated)
    warm = json.loads(warmup_json)
    jit = kind_ticks_between(json.loads(threads_before), json.loads(threads_after))
    n = cpu["requests"]
    hz = int(clk_tck)
    print(json.dumps({
        "case": case, "round": int(round_), "requests": n, "rps": sat["rps"], "p50_ms": sat["p50_ms"],
        "p99_ms": sat["p99_ms"], "paced": saturated != "-", "cpu_window_rps": cpu["rps"],
        "cpu_window_p99_ms": cpu["p99_ms"],
        "non_2xx": cpu["non_2xx"] + (sat["non_2xx"] if sat is not cpu else 0),
        "socket_errors": "; ".join(e for e in {cpu["socket_errors"], sat["socket_errors"]} if e),
        "service_cpu_us": int(service_ticks) / hz * 1e6 / n, "pg_cpu_us": int(pg_ticks) / hz * 1e6 / n,
        "rss_mib": int(rss_kib) / 1024, "warmup_requests": warm["requests"], "warmup_s": warm["seconds"],
        "warmup_jit_share": warm["jit_share"], "warmup_jit_quiet": warm["jit_quiet"],
        "jit_cpu_us": jit / hz * 1e6 / n, "jit_share": round(jit_share(jit, int(service_ticks)), 3)}))


def pgbench_line(round_, clk_tck, pg_ticks):
    out = sys.stdin.read()
    tps = re.search(r"tps = ([\d.]+)", out)
    n = re.search(r"number of transactions actually processed: (\d+)", out)
    if not (tps and n):
        die(f"unreadable pgbench output:\n{out}")
    print(json.dumps({"case": "pgbench", "round": int(round_), "tps": float(tps.group(1)),
                      "pg_cpu_us": int(pg_ticks) / int(clk_tck) * 1e6 / int(n.group(1))}))


def median(values):
    return sorted(values)[len(values) // 2]


def spread(values):
    lo, hi = min(values), max(values)
    return (hi - lo) / lo if lo > 0 else float("inf")


def why_not_met(figures, cores):
    """The measured reason of each goal that can miss its bound, from the same run's published figures."""
    why = {}
    off = figures.get("by_id_off_service_cpu_us")
    for t in ("10", "100"):
        if off and figures.get(f"by_id_{t}_service_cpu_us"):
            why[f"tracing_{t}_overhead"] = (f"service CPU/request {off:.0f} µs off, {figures[f'by_id_{t}_service_cpu_us']:.0f} µs "
                                            f"at {t} %")
    svc, pg, tx = (figures.get(k) for k in ("by_id_100_service_cpu_us", "by_id_100_pg_cpu_us", "pgbench_pg_cpu_us"))
    if svc and pg and tx:
        # wrk, the service and PostgreSQL share the cores: a request's CPU against a pgbench transaction's bounds the
        # rate ratio (pgbench's own client and wrk's CPU are not counted).
        why["by_id_vs_pgbench"] = (f"a by-id request at 100 % costs {svc:.0f} µs of service CPU + {pg:.0f} µs of PostgreSQL "
                                   f"CPU against {tx:.0f} µs of PostgreSQL CPU per pgbench -S transaction: on the same "
                                   f"{cores} cores that allows at most {tx / (svc + pg):.2f} x pgbench's rate")
    cpu = figures.get("start_cpu_s_median")
    if cpu:
        split = ", ".join(f"{kind} {figures[f'start_cpu_{kind}_s_median']:.2f} s" for kind in ("main", "jit", "gc", "other")
                          if f"start_cpu_{kind}_s_median" in figures)
        phases = ", ".join(f"{step} {figures[f'start_phase_{step}_s_median']:.2f} s" for step in ("jvm", "quarkus", "to_ready")
                           if f"start_phase_{step}_s_median" in figures)
        why["start_to_ready"] = (f"{cpu:.2f} s of service CPU when ready" + (f" ({split})" if split else "")
                                 + f": on {cores} cores at best {cpu / int(cores):.2f} s"
                                 + (f"; wall time by phase {phases}" if phases else ""))
    if figures.get("search_pg_cpu_us"):
        why["search_pg_cpu"] = f"PostgreSQL CPU/request {figures['search_pg_cpu_us']:.0f} µs"
    return why


# A goal's value from its inputs (GOALS' order), for the rounds of inputs whose figure is withheld.
GOAL_VALUE = {"tracing_10_overhead": lambda off, cpu: cpu / off - 1, "tracing_100_overhead": lambda off, cpu: cpu / off - 1,
              "by_id_vs_pgbench": lambda rps, tps: rps / tps, "search_pg_cpu": lambda cpu: cpu}


def every_round_verdict(key, inputs, op, bound, figures, disagree):
    """A goal whose inputs' rounds disagree still has a verdict when every pairing of those rounds (each input's
    rounds, or its published figure) gives the same one: the figure stays withheld, the verdict and the range of the
    goal's value over all pairings are published. None when the pairings differ, or an input is under-warmed, from
    starts without the AOT cache, or missing."""
    if key not in GOAL_VALUE:
        return None
    rounds, apart = [], []
    for name in inputs:
        if name in figures:
            rounds.append([figures[name]])
        elif "spread" in disagree.get(name, {}):
            rounds.append(disagree[name]["values"])
            apart.append(f"{name} rounds {disagree[name]['spread']:.0%} apart")
        else:
            return None
    values = [GOAL_VALUE[key](*combo) for combo in itertools.product(*rounds)]
    met = [v <= bound if op == "<=" else v >= bound for v in values]
    if len(set(met)) != 1:
        return None
    fmt = "{:+.0%}" if key.startswith("tracing_") else "{:.2f}" if key == "by_id_vs_pgbench" else "{:.0f} µs"
    return {"verdict": "met" if met[0] else "not met", "range": [round(min(values), 3), round(max(values), 3)],
            "reason": f"in every pairing of rounds ({fmt.format(min(values))} to {fmt.format(max(values))}; "
                      + "; ".join(apart) + ", so the figure itself is withheld)"}


def judge(figures, derived, disagree, cores=2):
    """One verdict per goal: met / not met on a published figure, else withheld with the reason of its inputs."""
    verdicts = []
    why = why_not_met(figures, cores)
    for key, text, figure, inputs, op, bound in GOALS:
        value = figures.get(figure, derived.get(figure))
        if value is not None:
            met = value <= bound if op == "<=" else value >= bound
            verdict = {"key": key, "goal": text, "value": value, "verdict": "met" if met else "not met"}
            if not met and key in why:
                verdict["reason"] = why[key]
            verdicts.append(verdict)
            continue
        robust = every_round_verdict(key, inputs, op, bound, figures, disagree)
        if robust is not None:
            verdicts.append({"key": key, "goal": text, "value": None, **robust})
            continue
        reasons = []
        for name in inputs:
            # its own name: `why` holds the not-met reasons of the goals still to come
            apart = disagree.get(name)
            if apart is None:
                continue
            if apart.get("under_warmed"):
                reasons.append(f"{name} under-warmed")
            elif "aot_cache_not_used" in apart:
                reasons.append(f"{name}: AOT cache not used in start(s) {apart['aot_cache_not_used']}")
            else:
                reasons.append(f"{name} rounds {apart['spread']:.0%} apart")
        verdicts.append({"key": key, "goal": text, "value": None, "verdict": "withheld",
                         "reason": "; ".join(reasons) or "no figure measured"})
    for key, text, where in GOALS_ELSEWHERE:
        verdicts.append({"key": key, "goal": text, "value": None, "verdict": "not judged", "reason": where})
    return verdicts


def report(raw, summary_path, cores, connections, threads, duration, warmup, rounds, rows, term, matches, jdk, flags, loadavg):
    lines = [json.loads(line) for line in open(raw, encoding="utf-8") if line.strip()]
    if not lines:
        die(f"{raw} is empty: nothing was measured")
    by_case = {}
    for line in lines:
        by_case.setdefault(line["case"], []).append(line)

    figures, disagree, table = {}, {}, []
    # Under-warmed: fewer warm-up requests than asked, or a warm-up that hit WARMUP_MAX with the JIT still compiling.
    cold = [r for r in lines if "warmup_requests" in r and (r["warmup_requests"] < int(os.environ.get("WARMUP_REQUESTS", "0"))
                                                            or r.get("warmup_jit_quiet") is False)]

    def figure(key, label, case, field, unit, fmt):
        runs = by_case.get(case, [])
        if not runs:
            die(f"no runs of case {case} in {raw}")
        values = [r[field] for r in runs]
        lo, hi, mean = min(values), max(values), sum(values) / len(values)
        rng = f"{fmt.format(lo)}–{fmt.format(hi)} {unit}"
        if any(r in cold for r in runs):
            # Still partly interpreted code: agreeing rounds would only agree on the JIT's cost.
            disagree[key] = {"values": values, "under_warmed": True}
            table.append((label, f"under-warmed ({rng})"))
        elif spread(values) > AGREEMENT:
            disagree[key] = {"values": values, "spread": round(spread(values), 3)}
            table.append((label, f"rounds disagree ({rng}, spread {spread(values):.0%})"))
        else:
            figures[key] = round(mean, 3)
            table.append((label, f"{fmt.format(mean)} {unit} (rounds {rng})"))

    figure("pgbench_tps", "pgbench -S, tps", "pgbench", "tps", "tps", "{:.0f}")
    figure("pgbench_pg_cpu_us", "pgbench -S, PostgreSQL CPU/transaction", "pgbench", "pg_cpu_us", "µs", "{:.0f}")
    for t, name in (("off", "tracing off"), ("10", "tracing 10 %"), ("100", "tracing 100 %")):
        case = f"tracing-{t}"
        figure(f"by_id_{t}_service_cpu_us", f"GET by id, {name}: service CPU/request", case, "service_cpu_us", "µs", "{:.0f}")
        figure(f"by_id_{t}_rps", f"GET by id, {name}: req/s", case, "rps", "req/s", "{:.0f}")
        figure(f"by_id_{t}_p99_ms", f"GET by id, {name}: p99", case, "p99_ms", "ms", "{:.1f}")
    figure("by_id_auth_service_cpu_us", "GET by id, tracing off, valid API key (proactive auth): service CPU/request", "auth",
           "service_cpu_us", "µs", "{:.0f}")
    figure("by_id_100_pg_cpu_us", "GET by id, tracing 100 %: PostgreSQL CPU/request", "tracing-100", "pg_cpu_us", "µs", "{:.0f}")
    figure("search_pg_cpu_us", f"GET ?q= over {rows} rows: PostgreSQL CPU/request", "search", "pg_cpu_us", "µs", "{:.0f}")
    figure("search_service_cpu_us", "GET ?q=: service CPU/request", "search", "service_cpu_us", "µs", "{:.0f}")
    figure("search_rps", "GET ?q=: req/s", "search", "rps", "req/s", "{:.0f}")
    paced = [r for r in lines if r.get("paced")]
    if paced:
        # CPU per request is measured at this offered rate, below saturation: at saturation it depends on how many
        # requests each wake-up of the event loop finds, which changes with whatever else holds the cores.
        rates = [r["cpu_window_rps"] for r in paced]
        table.append(("CPU windows (paced, wrk-rate.lua): req/s", f"{min(rates):.0f}–{max(rates):.0f} req/s"))
    jitted = [r for r in lines if "jit_share" in r]
    if jitted:
        # What the warm-up leaves to the windows: the JIT's compiler threads' share of the service's CPU in them.
        top = max(jitted, key=lambda r: r["jit_share"])
        table.append(("JIT compiler threads' share of service CPU in the windows",
                      f"max {top['jit_share']:.1%} ({top['case']} r{top['round']}), median "
                      f"{median([r['jit_share'] for r in jitted]):.1%}"))
    start_runs = by_case.get("start", [])
    if not start_runs:
        die(f"no start-to-ready runs in {raw}")
    starts = [r["ready_s"] for r in start_runs]
    # A start the JVM made without the AOT cache measures another configuration than the image's.
    uncached = [r["round"] for r in start_runs if r.get("aot_cache_used") is not True]
    if uncached:
        disagree["start_to_ready_s"] = {"values": starts, "aot_cache_not_used": uncached}
        table.append(("start to ready, image JVM settings", "AOT cache not used by the JVM in start(s) "
                      + ", ".join(map(str, uncached)) + " (start-N-aot.log): no figure"))
    else:
        figures["start_to_ready_s_median"] = median(starts)
        figures["start_to_ready_s_max"] = max(starts)
        table.append(("start to ready, image JVM settings", f"median {figures['start_to_ready_s_median']:.2f} s, "
                      f"max {max(starts):.2f} s over {len(starts)} starts"))
        cpu = [r["cpu_s"] for r in start_runs if r.get("cpu_s") is not None]
        if len(cpu) == len(start_runs):
            figures["start_cpu_s_median"] = median(cpu)
            table.append(("start: service CPU when ready", f"median {median(cpu):.2f} s (of {min(cpu):.2f}–{max(cpu):.2f} s)"))
        split = [r["threads_cpu_s"] for r in start_runs if r.get("threads_cpu_s")]
        if len(split) == len(start_runs):
            # Where a start's CPU goes: the main thread runs the application's start; on 2 cores the JIT's
            # compiler threads compete with it, so ready is at best (main + jit + rest) / cores.
            kinds = {kind: median([t[kind] for t in split]) for kind in split[0]}
            for kind, seconds in kinds.items():
                figures[f"start_cpu_{kind}_s_median"] = seconds
            table.append(("start: CPU when ready by thread", ", ".join(f"{k} {v:.2f} s" for k, v in kinds.items())
                          + " (medians)"))
        quarkus = [r["started_in_s"] for r in start_runs if r.get("started_in_s") is not None]
        if len(quarkus) == len(start_runs):
            figures["start_quarkus_started_in_s_median"] = median(quarkus)
            table.append(("start: Quarkus \"started in\"", f"median {median(quarkus):.2f} s"))
        phases = [r["phases_s"] for r in start_runs if r.get("phases_s")]
        if len(phases) == len(start_runs):
            # Wall time by phase (start-report.py phases): before Quarkus's start (JVM, launcher, the AOT cache's
            # classes), Quarkus's "started in", and from there to the first readiness answer UP.
            steps = {step: median([p[step] for p in phases]) for step in phases[0]}
            for step, seconds in steps.items():
                figures[f"start_phase_{step}_s_median"] = seconds
            table.append(("start: wall time by phase", ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()) + " (medians)"))

    derived = {}
    base = figures.get("by_id_off_service_cpu_us")
    for t in ("10", "100"):
        cpu = figures.get(f"by_id_{t}_service_cpu_us")
        if base and cpu:
            derived[f"tracing_{t}_overhead"] = round(cpu / base - 1, 3)
            table.append((f"tracing {t} % over off, service CPU/request", f"{cpu / base - 1:+.0%}"))
    auth = figures.get("by_id_auth_service_cpu_us")
    if base and auth:
        # Both figures come from rounds that agree within AGREEMENT: a difference smaller than that share of the
        # base is within the noise of the method.
        derived["auth_cost_us"] = round(auth - base, 1)
        table.append(("API-key authentication, service CPU/request over tracing off",
                      f"{auth - base:+.0f} µs (noise of the method: ±{AGREEMENT * base:.0f} µs)"))
    if figures.get("by_id_100_rps") and figures.get("pgbench_tps"):
        ratio = figures["by_id_100_rps"] / figures["pgbench_tps"]
        derived["by_id_100_rps_over_pgbench_tps"] = round(ratio, 3)
        table.append(("GET by id at 100 % req/s over pgbench -S tps", f"{ratio:.2f}"))
    errors = [r for r in lines if r.get("non_2xx") or r.get("socket_errors")]
    goals = judge(figures, derived, disagree, cores)

    print(f"\nmake bench: {rounds} rounds (case order rotating), wrk/pgbench -t{threads} -c{connections}, "
          f"{duration} s measured after {warmup} s warm-up (pgbench: no warm-up), {cores} cores shared by load generator, "
          f"service and PostgreSQL; load average at the end {loadavg.split()[0]}")
    pause = int(os.environ.get("PAUSE_MS", "0"))
    print(f"CPU per request: at a fixed offered rate, each connection pausing {pause} ms before each request "
          f"(wrk-rate.lua); req/s and p99: a {os.environ.get('SAT_DURATION', '10')} s saturated window after it"
          if pause else "CPU per request, req/s and p99: one saturated window (PAUSE_MS=0)")
    print(f"search term {term!r} matches {matches} of {rows}+ rows; JVM {jdk!r} with {flags}\n")
    width = max(len(label) for label, _ in table)
    print(f"| {'figure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for label, value in table:
        print(f"| {label.ljust(width)} | {value} |")
    if errors:
        print(f"\nWARNING: {len(errors)} measured windows had non-2xx answers or socket errors: "
              + ", ".join(f"{r['case']} r{r['round']}" for r in errors))
    if cold:
        print(f"\nWARNING: {len(cold)} windows were measured before WARMUP_REQUESTS requests of warm-up or with the "
              f"JIT still compiling (over {JIT_QUIET:.0%} of the service's CPU in the last warm-up slice; the machine was "
              "too busy to get there within WARMUP_MAX): "
              + ", ".join(f"{r['case']} r{r['round']} ({r['warmup_requests']} requests, JIT "
                          f"{r.get('warmup_jit_share', 0):.0%})" for r in cold))
    if "start_to_ready_s" in disagree:
        print("\nNOT PUBLISHED: the JVM did not use the AOT cache in every start (the image would): check "
              "start-N-aot.log, and that the cache was trained with this JDK, class path and jvm.options.")
    if set(disagree) - {"start_to_ready_s"}:
        print(f"\nNOT PUBLISHED: rounds disagree by more than {AGREEMENT:.0%}, or were under-warmed, on "
              f"{', '.join(sorted(set(disagree) - {'start_to_ready_s'}))}; the machine was busy: re-run on a quieter one.")
    print("\nGoals (issue 14):")
    for goal in goals:
        value = "" if goal["value"] is None else f" ({goal['value']:g})"
        print(f"- {goal['goal']}: {goal['verdict']}{value}" + (f": {goal['reason']}" if goal.get("reason") else ""))
    summary = {"settings": {"cores": int(cores), "connections": int(connections), "threads": int(threads),
                            "duration_s": int(duration), "warmup_s": int(warmup), "rounds": int(rounds), "jit_quiet": JIT_QUIET,
                            "search_rows": int(rows), "search_term": term, "search_matches": int(matches),
                            "jvm": jdk, "jvm_flags": flags, "loadavg_at_end": loadavg.strip(),
                            "pause_ms": int(os.environ.get("PAUSE_MS", "0"))},
               "figures": figures, "derived": derived, "disagree": disagree, "goals": goals,
               "windows_with_errors": len(errors), "windows_under_warmed": len(cold), "runs": lines}
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"\nsummary: {summary_path}")


def main():
    if len(sys.argv) < 2:
        die("usage: see the module docstring")
    cmd, args = sys.argv[1], sys.argv[2:]
    commands = {"entrypoint-flags": (entrypoint_flags, 1), "pod-jvm-flags": (pod_jvm_flags, 1), "wrk-line": (wrk_line, 10),
                "thread-ticks": (lambda pid: print(json.dumps(thread_ticks(pid))), 1),
                "pgbench-line": (pgbench_line, 3), "report": (report, 14), "thread-cpu": (thread_cpu, 2)}
    if cmd == "warm-up" and len(args) in (2, 3):
        return warm_up(*args)
    if cmd not in commands or len(args) != commands[cmd][1]:
        die(f"unknown command or wrong arguments: {sys.argv[1:]}")
    commands[cmd][0](*args)


if __name__ == "__main__":
    main()
