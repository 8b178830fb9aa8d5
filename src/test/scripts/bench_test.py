#!/usr/bin/env python3
"""Static checks of what `make bench` measures and of the image start-up it reports (make test-bench, seconds):

- the image starts from an AOT cache trained in its own build: ENTRYPOINT reads jvm.options and -XX:AOTCache,
  the runtime stage runs aot-train.sh after copying the application, the runtime JDK can use an AOT cache
  (JEP 514's one-step -XX:AOTCacheOutput needs JDK 25+), and the service is packaged as aot-jar (classes of a
  fast-jar's own class loader cannot be cached);
- the benchmark starts the JVM with exactly those flags (bench-report.py entrypoint-flags), and so does
  make capacity: both source image-jvm.sh, which exports the image's JDK and flags for local-service.sh;
- the report publishes a figure only when its rounds agree within 10 %, and says so when they do not;
- it publishes start-to-ready only when the JVM logged, in every start, that it used the AOT cache;
- it splits a start's CPU by thread kind (main, JIT compilers, GC, other) from /proc, and prints the medians;
- it prints every goal of issue 14 with met / not met on published figures (not met with the measured reason: the
  CPU per request or per start behind it), or withheld with the reason;
- a window is measured only after a warm-up that ended with the JIT quiet (its compiler threads at most JIT_QUIET
  of the service's CPU in the last slice), and one measured after a warm-up that hit WARMUP_MAX first is withheld
  as under-warmed: JIT compilation inside the windows was most of the rounds' spread;
- with PAUSE_MS, CPU per request is measured at a fixed offered rate below saturation (every connection pauses
  PAUSE_MS before each request, wrk-rate.lua), req/s and latency in a saturated window after it (at saturation the
  CPU per request depends on how requests batch per event-loop wake-up); by default one saturated window.
Run: python3 src/test/scripts/bench_test.py
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "src/main/docker/Dockerfile"
REPORT = ROOT / "src/test/scripts/bench-report.py"


def run(*args, env=None):
    return subprocess.run([sys.executable, str(REPORT), *args], capture_output=True, text=True, env=env)


def stages():
    """The Dockerfile's stages by name (the last, unnamed one is "runtime"), each from its FROM line on."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    parts = re.split(r"^(?=FROM )", text, flags=re.M)[1:]
    named = {}
    for part in parts:
        m = re.match(r"FROM \S+(?: AS (\w+))?", part.replace("--platform=$BUILDPLATFORM ", ""))
        named[m.group(1) or "runtime"] = part
    if set(named) != {"build", "train", "runtime"}:
        raise AssertionError(f"Dockerfile: expected the stages build, train and the runtime one, found {sorted(named)}")
    return named


def runtime_stage():
    return stages()["runtime"]


APP_COPIES = re.compile(r"^COPY --from=build .*$", re.M)


class ImageStartsFromAnAotCache(unittest.TestCase):

    def test_entrypoint_reads_the_options_file_and_the_cache(self):
        flags = run("entrypoint-flags", str(DOCKERFILE))
        self.assertEqual(flags.returncode, 0, flags.stderr)
        lines = flags.stdout.split()
        self.assertIn("@/deployments/jvm.options", lines)
        self.assertIn("-XX:AOTCache=/deployments/app.aot", lines,
                      "the image must start from the AOT cache it trains (README, Measured: start to ready)")

    def test_train_stage_trains_the_cache_after_copying_the_application(self):
        train_stage = stages()["train"]
        self.assertTrue(train_stage.startswith("FROM ${JRE_IMAGE} AS train"), "train on the runtime image: the cache belongs to its JDK build")
        train = train_stage.find('RUN ["/deployments/aot-train.sh", "java", "/deployments"]')
        self.assertGreater(train, 0, "the train stage must run aot-train.sh with the image's own java")
        for copied in ("/build/target/quarkus-app/lib/", "/build/target/quarkus-app/app/", "jvm.options"):
            at = train_stage.find(copied)
            self.assertGreater(at, 0, f"the train stage must copy {copied}")
            self.assertLess(at, train, f"{copied} must be in place before the training run")
        self.assertRegex(train_stage[:train], r"apt-get install [^\n]*\bpostgresql\b",
                         "the training run starts a PostgreSQL: the train stage installs one")

    def test_runtime_stage_uses_the_trained_cache_only_if_the_jvm_accepts_it(self):
        runtime, train = runtime_stage(), stages()["train"]
        # The cache records the class path's jars by path and modification time: both stages copy the same files
        # from the same build stage to the same places.
        self.assertEqual([c for c in APP_COPIES.findall(runtime) if "quarkus-app" in c],
                         [c for c in APP_COPIES.findall(train) if "quarkus-app" in c],
                         "the runtime stage must copy the application exactly as the train stage did")
        copy = runtime.find("COPY --from=train --chown=root:root /deployments/app.aot ./")
        self.assertGreater(copy, 0, "the runtime stage must take the cache the train stage wrote")
        check = runtime.find('"-XX:AOTCache=/deployments/app.aot", "-XX:AOTMode=on"')
        self.assertGreater(check, copy, "a cache the JVM would skip must fail the build (-XX:AOTMode=on), after it is copied")
        self.assertLess(runtime.find("/build/target/quarkus-app/app/"), check)
        self.assertNotIn("aot-train.sh", runtime, "the runtime stage ships no training script")
        self.assertLess(check, runtime.find("USER 185:185"), "check as root, before the image drops privileges")

    def test_training_run_has_a_database(self):
        script = (ROOT / "src/main/docker/aot-train.sh").read_text(encoding="utf-8")
        self.assertIn('QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://127.0.0.1:$pg_port/shop"', script,
                      "the training run must reach a database, or pgjdbc, the pool and Flyway stay out of the cache")
        self.assertNotIn("QUARKUS_FLYWAY_MIGRATE_AT_START=false", script, "Flyway's start belongs in the cache")
        self.assertIn('"$pg_bin/pg_ctl" -D "$pg_dir/data"', script)
        self.assertLess(script.index('/q/health/ready" 2>/dev/null && break'), script.index('"AOT-TRAIN-1"'),
                        "the requests wait for readiness (database included)")

    def test_runtime_jdk_has_one_step_aot_caches(self):
        env = (ROOT / "compose/.env").read_text(encoding="utf-8")
        image = re.search(r"^JRE_IMAGE=(\S+)", env, re.M).group(1)
        major = int(re.match(r"[^:]+:(\d+)", image).group(1))
        self.assertGreaterEqual(major, 25, f"{image}: -XX:AOTCacheOutput (JEP 514) needs JDK 25 or newer")
        default = re.search(r"^ARG JRE_IMAGE=(\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M).group(1)
        self.assertEqual(default, image)

    def test_service_is_packaged_with_every_class_on_the_class_path(self):
        props = (ROOT / "src/main/resources/application.properties").read_text(encoding="utf-8")
        self.assertRegex(props, r"(?m)^quarkus\.package\.jar\.type=aot-jar$")

    def test_training_run_uses_the_same_options_file_and_writes_the_cache(self):
        script = (ROOT / "src/main/docker/aot-train.sh").read_text(encoding="utf-8")
        self.assertIn('"@$app/jvm.options" -XX:AOTCacheOutput="$app/app.aot"', script)


class MeasurementsRunTheImagesJvm(unittest.TestCase):
    """make bench and make capacity start the service with the image's JDK and flags (image-jvm.sh)."""

    def test_image_jvm_exports_the_images_jdk_and_flags(self):
        major = re.search(r"^JRE_IMAGE=[^:]+:(\d+)", (ROOT / "compose/.env").read_text(encoding="utf-8"), re.M).group(1)
        with tempfile.TemporaryDirectory() as d:
            app = pathlib.Path(d, "quarkus-app")
            app.mkdir()
            app.joinpath("quarkus-run.jar").write_text("jar")
            # A cache newer than the jar, trained with this JDK and today's jvm.options: image-jvm.sh keeps it.
            app.joinpath("app.aot").write_text("cache")
            os.utime(app / "quarkus-run.jar", (1, 1))
            java = pathlib.Path(d, "java")
            version = f"openjdk version \"{major}.0.1\" 2026-01-20"
            java.write_text(f"#!/bin/sh\necho '{version}' >&2\n")
            java.chmod(0o755)
            app.joinpath("app.aot.trained-with").write_text(
                version + "\n" + (ROOT / "src/main/docker/jvm.options").read_text(encoding="utf-8"))
            script = ('die() { echo "die: $*"; exit 1; }; APP=$1 SCRIPTS=src/test/scripts OUT=$2; '
                      '. src/test/scripts/image-jvm.sh; printf "%s\\n" "$JAVA" "$JAVA_OPTS"')
            out = subprocess.run(["bash", "-c", script, "-", str(app), d], cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, "IMAGE_JAVA": str(java)})
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            pod = subprocess.run([sys.executable, str(ROOT / "src/test/scripts/bench-report.py"), "pod-jvm-flags",
                                  str(ROOT / "k8s/base/app/shop.yaml")], capture_output=True, text=True, check=True)
            self.assertEqual(out.stdout.splitlines(), [str(java), f"@{app}/jvm.options -XX:AOTCache={app}/app.aot "
                                                       + " ".join(pod.stdout.split())],
                             "make bench and make capacity run the image's flags plus the pod's limits (image-jvm.sh)")
            self.assertTrue(app.joinpath("jvm.options").is_file(), "jvm.options goes next to the jar, as in the image")

    def test_jvm_options_name_the_collector(self):
        # Ergonomics picks the collector from the memory the JVM sees (Serial in a 768Mi pod, G1 on a bigger
        # machine) and -XX:MaxRAM does not change that pick: only a collector named in jvm.options makes the image
        # build's training run and make bench / make capacity run the pod's collector.
        lines = (ROOT / "src/main/docker/jvm.options").read_text(encoding="utf-8").splitlines()
        collectors = [line for line in lines if re.fullmatch(r"-XX:\+Use\w+GC", line.strip())]
        self.assertEqual(len(collectors), 1, f"jvm.options must name exactly one collector, names {collectors}")

    def test_pod_jvm_flags_are_the_shop_containers_limits(self):
        manifest = """apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  template:
    spec:
      containers:
        - name: sidecar
          resources: {limits: {cpu: "4", memory: 1Gi}}
        - name: shop
          resources: {limits: {cpu: %s, memory: %s}}
---
apiVersion: v1
kind: Service
metadata: {name: shop}
"""
        cases = ((("1500m", "768Mi"), ["-XX:MaxRAM=805306368", "-XX:ActiveProcessorCount=2"]),
                 (("1", "1Gi"), ["-XX:MaxRAM=1073741824", "-XX:ActiveProcessorCount=1"]),
                 (("250m", "800M"), ["-XX:MaxRAM=800000000", "-XX:ActiveProcessorCount=1"]),
                 (("2.5", "512Mi"), ["-XX:MaxRAM=536870912", "-XX:ActiveProcessorCount=3"]))
        for (cpu, memory), want in cases:
            with self.subTest(cpu=cpu, memory=memory), tempfile.TemporaryDirectory() as d:
                path = pathlib.Path(d, "shop.yaml")
                path.write_text(manifest % (cpu, memory))
                out = subprocess.run([sys.executable, str(ROOT / "src/test/scripts/bench-report.py"), "pod-jvm-flags",
                                      str(path)], capture_output=True, text=True)
                self.assertEqual(out.returncode, 0, out.stderr)
                # HotSpot counts a CPU limit as its quota rounded up: 1500m is 2 processors.
                self.assertEqual(out.stdout.split(), want)
        with tempfile.TemporaryDirectory() as d:
            path = pathlib.Path(d, "shop.yaml")
            path.write_text(manifest.replace("limits: {cpu: %s, memory: %s}", "requests: {cpu: 1}"))
            out = subprocess.run([sys.executable, str(ROOT / "src/test/scripts/bench-report.py"), "pod-jvm-flags",
                                  str(path)], capture_output=True, text=True)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("the shop container needs CPU and memory limits", out.stderr)

    def test_image_jvm_retrains_a_cache_trained_with_other_flags_or_another_jdk(self):
        major = re.search(r"^JRE_IMAGE=[^:]+:(\d+)", (ROOT / "compose/.env").read_text(encoding="utf-8"), re.M).group(1)
        options = (ROOT / "src/main/docker/jvm.options").read_text(encoding="utf-8")
        version = f"openjdk version \"{major}.0.1\" 2026-01-20"
        for name, trained_with in (("other flags", version + "\n" + options + "-XX:+UseParallelGC\n"),
                                   ("another JDK build", f"openjdk version \"{major}.0.2\" 2026-04-21\n" + options),
                                   ("no record", None)):
            with self.subTest(name), tempfile.TemporaryDirectory() as d:
                app = pathlib.Path(d, "quarkus-app")
                app.mkdir()
                app.joinpath("quarkus-run.jar").write_text("jar")
                app.joinpath("app.aot").write_text("cache")
                os.utime(app / "quarkus-run.jar", (1, 1))
                if trained_with is not None:
                    app.joinpath("app.aot.trained-with").write_text(trained_with)
                java = pathlib.Path(d, "java")
                java.write_text(f"#!/bin/sh\necho '{version}' >&2\n")
                java.chmod(0o755)
                # No PostgreSQL for the training run: it fails at once, which shows image-jvm.sh started it.
                script = 'die() { echo "die: $*"; exit 1; }; APP=$1 SCRIPTS=src/test/scripts OUT=$2; . src/test/scripts/image-jvm.sh'
                out = subprocess.run(["bash", "-c", script, "-", str(app), d], cwd=ROOT, capture_output=True, text=True,
                                     env={**os.environ, "IMAGE_JAVA": str(java), "TRAIN_PG_BIN": d + "/no-postgres"})
                self.assertIn("image-jvm: training the AOT cache", out.stderr,
                              f"a cache trained with {name} must be trained again (image-jvm.sh)")
                self.assertIn("die: AOT training failed", out.stdout)

    def test_image_jvm_refuses_another_jdk(self):
        with tempfile.TemporaryDirectory() as d:
            java = pathlib.Path(d, "java")
            java.write_text("#!/bin/sh\necho 'openjdk version \"17.0.9\" 2023-10-17' >&2\n")
            java.chmod(0o755)
            script = 'die() { echo "die: $*"; exit 1; }; APP=$1 SCRIPTS=src/test/scripts OUT=$1; . src/test/scripts/image-jvm.sh'
            out = subprocess.run(["bash", "-c", script, "-", d], cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, "IMAGE_JAVA": str(java)})
            self.assertEqual(out.returncode, 1)
            self.assertRegex(out.stdout, r"die: .* is not JDK \d+, the JDK of ")

    def test_bench_and_capacity_both_use_it(self):
        bench = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        self.assertIn('. "$SCRIPTS/image-jvm.sh"', bench)
        capacity = (ROOT / "loadtest/scripts/loadtest.sh").read_text(encoding="utf-8")
        body = capacity[capacity.index("cmd_capacity() {"):capacity.index("cmd_test_load() {")]
        self.assertIn('. "$SCRIPTS/image-jvm.sh"', body, "make capacity must run the image's JVM: the sizing plans pods that run the image")
        self.assertLess(body.index('. "$SCRIPTS/image-jvm.sh"'), body.index("start_service capacity"))


class ReportCase(unittest.TestCase):
    """Runs bench-report.py's report on made-up raw lines; every case of every round gets the given figures."""

    def report(self, cpu_by_round, warmup=40000, aot_used=(True, True, True), ready_s=0.9, auth_us=12.0, jit_quiet=None, phases=False,
               tweak=None):
        lines = []
        for rnd, cpu in enumerate(cpu_by_round, start=1):
            lines.append({"case": "pgbench", "round": rnd, "tps": 30000.0, "pg_cpu_us": 50.0})
            for case in ("tracing-off", "tracing-10", "tracing-100", "search", "auth"):
                lines.append({"case": case, "round": rnd, "requests": 1000, "rps": 5000.0, "p50_ms": 1.0,
                              "p99_ms": 5.0, "non_2xx": 0, "socket_errors": "",
                              "service_cpu_us": cpu + (auth_us if case == "auth" else 0.0),
                              "pg_cpu_us": 60.0, "rss_mib": 200.0, "warmup_requests": warmup})
                if tweak is not None:
                    lines[-1] |= tweak(rnd, case)
                if jit_quiet is not None:
                    lines[-1] |= {"warmup_jit_quiet": jit_quiet(rnd, case), "warmup_jit_share": 0.02, "jit_share": 0.01}
            lines.append({"case": "start", "round": rnd, "ready_s": ready_s, "cpu_s": 1.5, "started_in_s": 0.6,
                          "aot_cache_used": aot_used[rnd - 1],
                          "threads_cpu_s": {"main": 0.5 + rnd / 10, "jit": 0.8, "gc": 0.05, "other": 0.1}}
                         | ({"phases_s": {"jvm": 0.3 + rnd / 10, "quarkus": 0.7, "to_ready": 0.05}} if phases else {}))
        with tempfile.TemporaryDirectory() as d:
            raw = os.path.join(d, "raw.jsonl")
            with open(raw, "w", encoding="utf-8") as f:
                f.write("".join(json.dumps(line) + "\n" for line in lines))
            summary = os.path.join(d, "summary.json")
            out = run("report", raw, summary, "2", "16", "1", "15", "10", str(len(cpu_by_round)), "10000", "abcd", "3",
                      "openjdk 25", "-XX:AOTCache=x", "1.0 1.0 1.0 1/1 1",
                      env={**os.environ, "WARMUP_REQUESTS": "30000"})
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(summary, encoding="utf-8") as f:
                return out.stdout, json.load(f)


class ReportPublishesOnlyAgreeingRounds(ReportCase):

    def test_agreeing_rounds_are_published(self):
        stdout, summary = self.report([200.0, 205.0, 210.0])
        self.assertAlmostEqual(summary["figures"]["by_id_off_service_cpu_us"], 205.0)
        self.assertEqual(summary["disagree"], {})
        self.assertNotIn("NOT PUBLISHED", stdout)

    def test_auth_cost_is_the_keyed_read_over_the_plain_one(self):
        stdout, summary = self.report([200.0, 205.0, 210.0], auth_us=12.0)
        self.assertAlmostEqual(summary["derived"]["auth_cost_us"], 12.0)
        self.assertRegex(stdout, r"API-key authentication, service CPU/request over tracing off +\| \+12 µs")
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        self.assertIn("QUARKUS_HTTP_AUTH_PROACTIVE=true", script, "without proactive auth a read never checks the key")
        self.assertRegex(script, r'measure_wrk "\$round" auth "\$by_id" "Authorization: Bearer ')

    def test_rounds_more_than_ten_percent_apart_are_withheld(self):
        stdout, summary = self.report([200.0, 205.0, 240.0])
        self.assertNotIn("by_id_off_service_cpu_us", summary["figures"])
        self.assertIn("by_id_off_service_cpu_us", summary["disagree"])
        self.assertIn("NOT PUBLISHED", stdout)
        self.assertIn("rounds disagree", stdout)

    def test_start_figures_only_from_starts_that_used_the_aot_cache(self):
        stdout, summary = self.report([200.0, 205.0, 210.0])
        self.assertEqual(summary["figures"]["start_to_ready_s_median"], 0.9)
        self.assertEqual(summary["figures"]["start_cpu_s_median"], 1.5)
        stdout, summary = self.report([200.0, 205.0, 210.0], aot_used=(True, False, True))
        self.assertNotIn("start_to_ready_s_median", summary["figures"])
        self.assertEqual(summary["disagree"]["start_to_ready_s"]["aot_cache_not_used"], [2])
        self.assertIn("did not use the AOT cache", stdout)

    def test_pgbench_cpu_is_read_once_its_backends_are_reaped(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        body = script[script.index("measure_pgbench() {"):script.index("new_product() {")]
        why = "pgbench's exiting backends read 0 ticks until reaped: PostgreSQL's CPU per transaction would be lost"
        loop = '[ "$(pg_children)" -gt "$before" ] || break'
        self.assertIn(loop, body, why)
        self.assertLess(body.index('-T "$DURATION" pgbench'), body.index(loop))
        self.assertLess(body.index(loop), body.index("p1=$(pg_ticks)"), why)

    def test_bench_publishes_what_the_jvm_says_about_the_cache(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        self.assertIn("-Xlog:aot=info:file=$aot_log", script)
        self.assertIn("'Using AOT-linked classes: true'", script,
                      "a start counts as cached only when the JVM logs that it used the cache's classes")

    def test_under_warmed_windows_are_withheld_even_when_they_agree(self):
        stdout, summary = self.report([200.0, 205.0, 210.0], warmup=5000)
        self.assertNotIn("by_id_off_service_cpu_us", summary["figures"])
        self.assertTrue(summary["disagree"]["by_id_off_service_cpu_us"]["under_warmed"])
        self.assertIn("under-warmed", stdout)


def load_report():
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class WarmUpWaitsForTheJit(ReportCase):
    """A window starts only once the JIT is quiet: with a fixed request count, windows of the same case paid
    10-200 µs of JIT compilation per request in one round and not in the next (loadtest/README.md, Benchmark)."""

    def test_warm_up_is_over_only_when_the_jit_is_quiet(self):
        r = load_report()
        self.assertFalse(r.warmed(60, 100000, 0.20, 10, 30000, quiet=0.03), "the JIT took 20 %: still compiling")
        self.assertTrue(r.warmed(60, 100000, 0.02, 10, 30000, quiet=0.03))
        self.assertFalse(r.warmed(60, 100, 0.0, 10, 30000, quiet=0.03), "too few requests")
        self.assertFalse(r.warmed(5, 100000, 0.0, 10, 30000, quiet=0.03), "too short")
        self.assertFalse(r.warmed(60, 100000, None, 10, 30000, quiet=0.03), "no slice measured yet")

    def test_jit_ticks_follow_threads_that_come_and_go(self):
        r = load_report()
        before = {"1": ["main", 10], "7": ["jit", 100], "8": ["jit", 50], "9": ["other", 5]}
        # thread 8 retired (idle), thread 11 is a new compiler thread: counted from 0.
        after = {"1": ["main", 20], "7": ["jit", 130], "11": ["jit", 4], "9": ["other", 90]}
        self.assertEqual(r.kind_ticks_between(before, after), 34)
        self.assertEqual(r.jit_share(34, 340), 0.1)
        self.assertEqual(r.jit_share(5, 0), 0.0)

    def test_thread_ticks_of_a_live_process(self):
        out = run("thread-ticks", str(os.getpid()))
        self.assertEqual(out.returncode, 0, out.stderr)
        ticks = json.loads(out.stdout)
        self.assertIn(str(os.getpid()), ticks)
        self.assertTrue(all(kind in ("main", "jit", "gc", "other") for kind, _ in ticks.values()))

    def warm_up(self, jit_quiet, warmup_max):
        with tempfile.TemporaryDirectory() as d:
            wrk = pathlib.Path(d, "wrk")
            wrk.write_text(f"#!/bin/sh\necho \"$@\" >> {d}/calls\necho '  5000 requests in 5.00s, 1.2MB read'\n")
            wrk.chmod(0o755)
            env = {**os.environ, "PATH": f"{d}:{os.environ['PATH']}", "WARMUP": "0", "WARMUP_REQUESTS": "12000",
                   "WARMUP_MAX": str(warmup_max), "JIT_QUIET": str(jit_quiet), "CONNECTIONS": "16", "THREADS": "1"}
            out = run("warm-up", str(os.getpid()), "http://127.0.0.1:1/x", "Authorization: Bearer k", env=env)
            self.assertEqual(out.returncode, 0, out.stderr)
            calls = pathlib.Path(d, "calls").read_text().splitlines()
            return json.loads(out.stdout), calls

    def test_warm_up_drives_wrk_until_requests_and_a_quiet_jit(self):
        # This process has no compiler threads: quiet, so three slices reach 12 000 requests and it stops.
        result, calls = self.warm_up(jit_quiet=0.03, warmup_max=600)
        self.assertEqual((result["requests"], result["jit_quiet"]), (15000, True))
        self.assertEqual(calls[0], "-H Authorization: Bearer k -t1 -c16 -d5s http://127.0.0.1:1/x")
        # Never quiet (a negative bound): it stops at WARMUP_MAX and says the JIT was not quiet.
        result, calls = self.warm_up(jit_quiet=-1, warmup_max=0)
        self.assertEqual((result["requests"], result["jit_quiet"], len(calls)), (5000, False, 1))

    def test_a_window_after_a_warm_up_that_never_got_the_jit_quiet_is_withheld(self):
        stdout, summary = self.report([200.0, 205.0, 210.0],
                                      jit_quiet=lambda rnd, case: not (rnd == 2 and case == "tracing-off"))
        self.assertNotIn("by_id_off_service_cpu_us", summary["figures"])
        self.assertTrue(summary["disagree"]["by_id_off_service_cpu_us"]["under_warmed"])
        self.assertIn("by_id_10_service_cpu_us", summary["figures"], "only the case whose JIT was busy is withheld")
        self.assertIn("JIT still compiling", stdout)
        self.assertRegex(stdout, r"JIT compiler threads' share of service CPU in the windows +\| max 1\.0% ")

    def test_bench_warms_up_with_it_and_records_the_windows_jit(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        body = script[script.index("measure_wrk() {"):script.index("# The postmaster's live children")]
        self.assertIn('warm=$(warm_up "$url"', body)
        self.assertIn('bench-report.py" warm-up "$(service_pid)"', script)
        self.assertIn('"$warm" "$t0" "$t1"', body, "the window's line needs the warm-up and the threads' CPU around it")
        self.assertLess(body.index("t0=$("), body.index('-d"${DURATION}s"'))
        self.assertLess(body.index('-d"${DURATION}s"'), body.index("t1=$("))


WRK_OUT = """Running 15s test @ http://127.0.0.1:26080/api/products/1
  1 threads and 16 connections
  Latency Distribution
     50%  {p50}
     99%  {p99}
  {n} requests in 15.00s, 6.1MB read
Requests/sec:   {rps}
"""


class CpuAtAFixedRateBelowSaturation(unittest.TestCase):

    def wrk_line(self, saturated):
        warm = json.dumps({"requests": 40000, "seconds": 20, "jit_share": 0.01, "jit_quiet": True})
        threads = json.dumps({"1": ["main", 5]})
        out = subprocess.run([sys.executable, str(REPORT), "wrk-line", "2", "tracing-off", "100", "600", "150", "204800",
                              warm, threads, threads, saturated],
                             input=WRK_OUT.format(p50="1.20ms", p99="3.00ms", n=30000, rps="2000.00"),
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def test_cpu_per_request_from_the_paced_window_rate_and_latency_from_the_saturated_one(self):
        line = self.wrk_line(WRK_OUT.format(p50="2.00ms", p99="9.50ms", n=90000, rps="6000.00"))
        # 600 ticks at 100/s over the paced window's 30 000 requests, not the saturated window's 90 000.
        self.assertAlmostEqual(line["service_cpu_us"], 200.0)
        self.assertAlmostEqual(line["pg_cpu_us"], 50.0)
        self.assertEqual((line["rps"], line["p99_ms"], line["paced"]), (6000.0, 9.5, True))
        self.assertEqual((line["cpu_window_rps"], line["cpu_window_p99_ms"]), (2000.0, 3.0))

    def test_without_pacing_one_window_gives_everything(self):
        line = self.wrk_line("-")
        self.assertEqual((line["rps"], line["paced"], line["requests"]), (2000.0, False, 30000))

    def test_bench_paces_the_cpu_window_and_measures_req_s_saturated(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        self.assertRegex(script, r"(?m)^PAUSE_MS=\$\{PAUSE_MS:-0\}$",
                         "saturated by default: the A/B on a busy machine did not show pacing steadier (loadtest/README.md)")
        self.assertIn('[ "$PAUSE_MS" = 0 ] || paced=(', script)
        self.assertIn('[ "$PAUSE_MS" = 0 ] || sat=$(', script)
        body = script[script.index("measure_wrk() {"):script.index("# The postmaster's live children")]
        cpu_window = next(line for line in body.splitlines() if '-d"${DURATION}s"' in line)
        self.assertIn('"${paced[@]}"', cpu_window, "the CPU window must be the paced one")
        self.assertIn("WRK_DELAY_MS=$PAUSE_MS", cpu_window)
        self.assertIn('paced=(-s "$SCRIPTS/wrk-rate.lua")', body)
        sat_window = next(line for line in body.splitlines() if '-d"${SAT_DURATION}s"' in line)
        self.assertNotIn("paced", sat_window, "req/s is what the service takes when offered all it can")
        self.assertLess(body.index("t1=$("), body.index('-d"${SAT_DURATION}s"'), "the saturated window is not in the CPU's")
        self.assertIn('"$warm" "$t0" "$t1" "$sat"', body)

    def test_the_lua_script_pauses_each_request(self):
        lua = (ROOT / "src/test/scripts/wrk-rate.lua").read_text(encoding="utf-8")
        self.assertRegex(lua, r'local pause = tonumber\(os.getenv\("WRK_DELAY_MS"\)')
        self.assertRegex(lua, r"function delay\(\)\s+return pause\s+end")


class StartCpuByThread(ReportCase):
    """Where a start's CPU goes: bench.sh records it per thread kind; the report prints the medians."""

    def test_threads_are_classified_by_their_hotspot_names(self):
        # proc(5): pid (comm) state ppid ... utime (14) stime (15); comm may hold spaces and parentheses.
        threads = {"java": 88, "main": 2, "C2 CompilerThre": 70, "C1 CompilerThre": 30, "GC Thread#0": 4,
                   "G1 Conc#0": 1, "executor-thread-1": 7, "vert.x-eventloop-thread-0 (x)": 3}
        with tempfile.TemporaryDirectory() as proc:
            for tid, (name, ticks) in enumerate(threads.items(), start=100):
                task = pathlib.Path(proc, "42", "task", str(tid))
                task.mkdir(parents=True)
                task.joinpath("stat").write_text(f"{tid} ({name}) S 1 1 1 0 -1 0 0 0 0 0 {ticks - 1} 1 0 0 20 0 1 0\n")
            out = subprocess.run([sys.executable, "-c", "import importlib.util, sys; spec = importlib.util.spec_from_file_location('r', sys.argv[1]); "
                                  "r = importlib.util.module_from_spec(spec); spec.loader.exec_module(r); r.thread_cpu(42, 100, sys.argv[2])",
                                  str(REPORT), proc], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout), {"main": 0.9, "jit": 1.0, "gc": 0.05, "other": 0.1})

    def test_live_process(self):
        out = run("thread-cpu", str(os.getpid()), "100")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(set(json.loads(out.stdout)), {"main", "jit", "gc", "other"})

    def test_report_prints_the_median_split(self):
        stdout, summary = self.report([200.0, 205.0, 210.0])
        self.assertEqual(summary["figures"]["start_cpu_main_s_median"], 0.7)
        self.assertEqual(summary["figures"]["start_cpu_jit_s_median"], 0.8)
        self.assertRegex(stdout, r"start: CPU when ready by thread +\| main 0\.70 s, jit 0\.80 s, gc 0\.05 s, other 0\.10 s \(medians\)")

    def test_report_prints_the_wall_time_by_phase_and_gives_it_as_the_reason(self):
        stdout, summary = self.report([200.0, 205.0, 210.0], ready_s=1.2, phases=True)
        self.assertEqual(summary["figures"]["start_phase_jvm_s_median"], 0.5)
        self.assertRegex(stdout, r"start: wall time by phase +\| jvm 0\.50 s, quarkus 0\.70 s, to_ready 0\.05 s \(medians\)")
        goals = {g["key"]: g for g in summary["goals"]}
        self.assertTrue(goals["start_to_ready"]["reason"].endswith(
            "on 2 cores at best 0.75 s; wall time by phase jvm 0.50 s, quarkus 0.70 s, to_ready 0.05 s"),
            goals["start_to_ready"]["reason"])

    def test_bench_records_the_split_of_every_start(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        self.assertIn('bench-report.py" thread-cpu "$(service_pid)"', script)
        self.assertIn('\\"threads_cpu_s\\": $threads, \\"phases_s\\": $phases}', script)


START_REPORT = ROOT / "src/test/scripts/start-report.py"


def start_report(*args):
    return subprocess.run([sys.executable, str(START_REPORT), *args], capture_output=True, text=True)


class StartToReadyAB(unittest.TestCase):
    """make bench-start: starts with the image's flags (A) alternating with extra flags (B), by thread and by phase."""

    def test_phases_split_the_wall_time_at_quarkus_start(self):
        # Booted at 1000 s; the process started 500 ticks (5.00 s) after boot, so at 1005.00; Quarkus logged
        # "started in 1.250s" at 1006.75: 0.50 s before Quarkus's start, 1.25 s in it; ready at 1008.00: 1.25 s more.
        with tempfile.TemporaryDirectory() as d:
            proc = pathlib.Path(d, "proc")
            proc.joinpath("42").mkdir(parents=True)
            proc.joinpath("stat").write_text("cpu 1 2 3\nbtime 1000\n")
            fields = ["S"] + ["0"] * 18 + ["500"] + ["0"] * 10  # state is field 3, starttime field 22
            proc.joinpath("42", "stat").write_text("42 (java (x)) " + " ".join(fields) + "\n")
            log = pathlib.Path(d, "service.log")
            stamp = "1970-01-01T00:16:46.750000123Z"  # 1006.75 s after the epoch
            log.write_text('not json started in 9.9s.\n'
                           + json.dumps({"timestamp": stamp, "message": "shop 1.0.0 on JVM started in 1.250s. Listening on"}) + "\n")
            out = subprocess.run([sys.executable, "-c", "import importlib.util, sys; spec = importlib.util.spec_from_file_location('r', sys.argv[1]); "
                                  "r = importlib.util.module_from_spec(spec); spec.loader.exec_module(r); r.phases(42, 100, sys.argv[2], '1008.00', sys.argv[3])",
                                  str(START_REPORT), str(log), str(proc)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout), {"jvm": 0.5, "quarkus": 1.25, "to_ready": 1.25})

    def test_report_prints_each_configuration_and_b_against_a(self):
        lines = []
        for run in (1, 2, 3):
            for config, main, jit in (("A", 1.4, 2.5 + run / 10), ("B", 1.2, 0.8 + run / 10)):
                lines.append({"case": "start", "round": run, "config": config,
                              "extra_opts": "-XX:TieredStopAtLevel=1" if config == "B" else "",
                              "ready_s": main + jit / 2, "cpu_s": main + jit, "aot_cache_used": True,
                              "threads_cpu_s": {"main": main, "jit": jit, "gc": 0.05, "other": 0.2},
                              "phases_s": {"jvm": 0.4, "quarkus": main, "to_ready": 0.1}})
        with tempfile.TemporaryDirectory() as d:
            raw = pathlib.Path(d, "raw.jsonl")
            raw.write_text("".join(json.dumps(line) + "\n" for line in lines))
            out = start_report("report", str(raw))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("start A (the image flags): 3 starts, medians:", out.stdout)
        self.assertIn("start B (+ -XX:TieredStopAtLevel=1): 3 starts, medians:", out.stdout)
        self.assertIn("  by thread: main 1.40 s, jit 2.70 s, gc 0.05 s, other 0.20 s", out.stdout)
        self.assertIn("  by phase (wall): jvm 0.40 s, quarkus 1.20 s, to_ready 0.10 s", out.stdout)
        self.assertIn("B - A: ready -1.05 s, CPU when ready -1.90 s, main -0.20 s, jit -1.70 s, gc +0.00 s, other +0.00 s",
                      out.stdout)

    def test_start_mode_alternates_a_and_b_with_the_extra_flags_after_the_images(self):
        script = (ROOT / "src/test/scripts/bench.sh").read_text(encoding="utf-8")
        body = script[script.index('if [ "$MODE" = start ]; then'):]
        loop = body[body.index('for run in $(seq 1 "$START_RUNS"); do'):body.index("done")]
        self.assertLess(loop.index('measure_start "$run" A'), loop.index('measure_start "$run" B "$START_B_OPTS"'),
                        "A and B alternate within one loop, so a busy machine disturbs both alike")
        self.assertIn('"JAVA_OPTS=$JAVA_OPTS${extra:+ $extra} -Xlog:aot=info:file=$aot_log"', script,
                      "B is the image's flags plus START_B_OPTS, still logging whether the AOT cache was used")
        self.assertIn('bench-start: build', (ROOT / "Makefile").read_text(encoding="utf-8"))

class ReportJudgesEveryGoal(ReportCase):
    """The closing note of issue 14 comes from one run: every goal, met / not met / withheld and why."""

    GOALS = {"tracing_10_overhead", "tracing_100_overhead", "by_id_vs_pgbench", "start_to_ready", "search_pg_cpu",
             "capacity"}

    def goals(self, *args, **kwargs):
        stdout, summary = self.report(*args, **kwargs)
        goals = {g["key"]: g for g in summary["goals"]}
        self.assertEqual(set(goals), self.GOALS, "one verdict per goal of issue 14, no more, no fewer")
        self.assertIn("Goals (issue 14):", stdout)
        for goal in summary["goals"]:
            self.assertIn(f"- {goal['goal']}: {goal['verdict']}", stdout)
        return goals

    def test_published_figures_are_judged_against_the_bounds(self):
        # Same CPU in every case: overheads 0 (met); 5000 req/s over 30000 tps = 0.17 (not met); ready 0.9 s (met);
        # PostgreSQL 60 µs per search (met).
        goals = self.goals([200.0, 205.0, 210.0])
        self.assertEqual({k: g["verdict"] for k, g in goals.items()},
                         {"tracing_10_overhead": "met", "tracing_100_overhead": "met", "by_id_vs_pgbench": "not met",
                          "start_to_ready": "met", "search_pg_cpu": "met", "capacity": "not judged"})
        self.assertAlmostEqual(goals["by_id_vs_pgbench"]["value"], 0.167)
        self.assertEqual(self.goals([200.0, 205.0, 210.0], ready_s=1.2)["start_to_ready"]["verdict"], "not met")

    def test_goals_not_met_print_their_measured_reason(self):
        # by id: 205 µs service + 60 µs PostgreSQL per request against 50 µs per pgbench transaction -> 0.19 x.
        stdout, summary = self.report([200.0, 205.0, 210.0], ready_s=1.2)
        goals = {g["key"]: g for g in summary["goals"]}
        self.assertEqual(goals["by_id_vs_pgbench"]["reason"],
                         "a by-id request at 100 % costs 205 µs of service CPU + 60 µs of PostgreSQL CPU against 50 µs of "
                         "PostgreSQL CPU per pgbench -S transaction: on the same 2 cores that allows at most 0.19 x pgbench's rate")
        # start: 1.5 s of CPU when ready, split by thread, on 2 cores -> at best 0.75 s.
        self.assertEqual(goals["start_to_ready"]["reason"],
                         "1.50 s of service CPU when ready (main 0.70 s, jit 0.80 s, gc 0.05 s, other 0.10 s): on 2 cores at best 0.75 s")
        self.assertIn(f"- {goals['start_to_ready']['goal']}: not met (1.2): 1.50 s of service CPU when ready", stdout)
        self.assertNotIn("reason", goals["search_pg_cpu"], "a goal that is met needs no reason")

    def test_a_goal_not_met_after_withheld_ones_keeps_its_reason(self):
        # The final run of 2026-12-01: tracing withheld (rounds apart), then start to ready not met, printed bare.
        goals = self.goals([200.0, 205.0, 240.0], ready_s=1.2)
        self.assertEqual(goals["tracing_10_overhead"]["verdict"], "withheld")
        self.assertEqual(goals["start_to_ready"]["verdict"], "not met")
        self.assertIn("1.50 s of service CPU when ready", goals["start_to_ready"].get("reason", ""))

    def test_goals_on_withheld_figures_are_withheld_with_the_reason(self):
        goals = self.goals([200.0, 205.0, 240.0], aot_used=(True, False, True))
        # 10 %: the pairings of 200-240 µs against 200-240 µs run from -17 % to +20 %, on both sides of +5 %.
        self.assertEqual(goals["tracing_10_overhead"]["verdict"], "withheld")
        self.assertIn("rounds 20% apart", goals["tracing_10_overhead"]["reason"])
        # 100 %: the same pairings are all under +25 %, so the verdict holds whichever rounds are taken.
        self.assertEqual(goals["tracing_100_overhead"]["verdict"], "met")
        self.assertIn("in every pairing of rounds (-17% to +20%", goals["tracing_100_overhead"]["reason"])
        self.assertEqual(goals["start_to_ready"]["verdict"], "withheld")
        self.assertIn("AOT cache not used in start(s) [2]", goals["start_to_ready"]["reason"])
        self.assertEqual(goals["search_pg_cpu"]["verdict"], "met", "PostgreSQL's rounds agreed")
        goals = self.goals([200.0, 205.0, 210.0], warmup=5000)
        self.assertEqual(goals["tracing_10_overhead"]["verdict"], "withheld")
        self.assertIn("under-warmed", goals["tracing_10_overhead"]["reason"])

    def test_a_verdict_every_pairing_of_rounds_agrees_on_is_published_without_the_figure(self):
        # The quiet run of 2026-12-01 05:21: tracing off 150-166 µs (11 % apart) against 10 % at 176-178 µs is over
        # +5 % in every pairing; search 134-154 µs of PostgreSQL CPU (15 % apart) is under 200 µs in every round.
        cpu = {"tracing-off": (150.0, 160.0, 166.0), "tracing-10": (176.0, 177.0, 178.0),
               "tracing-100": (205.0, 230.0, 255.0)}
        pg = (134.0, 144.0, 154.0)

        def tweak(rnd, case):
            return ({"service_cpu_us": cpu[case][rnd - 1]} if case in cpu else {}) | \
                ({"pg_cpu_us": pg[rnd - 1]} if case == "search" else {})

        stdout, summary = self.report([200.0, 205.0, 210.0], tweak=tweak)
        goals = {g["key"]: g for g in summary["goals"]}
        self.assertNotIn("by_id_off_service_cpu_us", summary["figures"], "the figure itself stays withheld")
        self.assertEqual(goals["tracing_10_overhead"]["verdict"], "not met")
        # 10 %'s rounds agree (177 µs published), off's do not: 177/166 - 1 to 177/150 - 1.
        self.assertEqual(goals["tracing_10_overhead"]["range"], [0.066, 0.18])
        self.assertIn("not met: in every pairing of rounds (+7% to +18%; by_id_off_service_cpu_us rounds 11% apart", stdout)
        self.assertEqual(goals["search_pg_cpu"]["verdict"], "met")
        self.assertEqual(goals["search_pg_cpu"]["range"], [134.0, 154.0])
        # 205/166 - 1 = +23 % (met) but 255/150 - 1 = +70 % (not met): no verdict.
        self.assertEqual(goals["tracing_100_overhead"]["verdict"], "withheld")
        self.assertIn("by_id_100_service_cpu_us rounds 24% apart", goals["tracing_100_overhead"]["reason"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
