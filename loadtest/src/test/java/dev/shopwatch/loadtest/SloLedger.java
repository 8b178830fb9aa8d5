package dev.shopwatch.loadtest;

import dev.shopwatch.loadtest.LoadProfile.Phase;
import dev.shopwatch.loadtest.LoadProfile.Slo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Our own tally of every request, bucketed by the injection phase in which it started. Gatling's console and
 * report only give whole-run figures; stress needs each step's p95/p99/failure rate to name the last step that
 * held, and every profile prints its gates with the margin by which each passed or failed.
 */
final class SloLedger {

    /** Response times are counted per millisecond up to the request timeout (gatling.conf), then in one bucket. */
    static final int MAX_MS = 10_000;

    private final List<Window> windows = new ArrayList<>();
    private final Window whole;
    private final AtomicLong startMillis = new AtomicLong();
    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();

    SloLedger(List<Phase> phases) {
        long offset = 0;
        for (Phase phase : phases) {
            long end = offset + phase.duration().toMillis();
            windows.add(new Window(phase, offset, end));
            offset = end;
        }
        whole = new Window(new Phase("whole run", 0, 0, java.time.Duration.ofMillis(offset), true), 0, Long.MAX_VALUE);
    }

    private long lastSampleAt;
    private long lastServiceCpu = -1;
    private long lastGatlingCpu = -1;
    private long lastMachineBusy = -1;

    /**
     * Books the CPU both processes used since the previous sample to the phase now running (the monitor calls
     * this every second), so each phase shows the cores the service and the load generator took.
     */
    synchronized void sampleCpu(CpuClock clock) {
        long now = System.nanoTime();
        long service = clock.serviceNanos();
        long gatling = clock.gatlingNanos();
        long machine = clock.machineBusyNanos();
        if (lastSampleAt != 0) {
            long wall = now - lastSampleAt;
            long serviceDelta = service >= 0 && lastServiceCpu >= 0 ? service - lastServiceCpu : -1;
            long gatlingDelta = gatling >= 0 && lastGatlingCpu >= 0 ? gatling - lastGatlingCpu : -1;
            long machineDelta = machine >= 0 && lastMachineBusy >= 0 ? machine - lastMachineBusy : -1;
            whole.addCpu(wall, serviceDelta, gatlingDelta, machineDelta);
            long t0 = startMillis.get();
            if (t0 != 0) {
                long elapsed = System.currentTimeMillis() - t0;
                for (Window w : windows) {
                    if (elapsed > w.startMs && elapsed <= w.endMs) {
                        w.addCpu(wall, serviceDelta, gatlingDelta, machineDelta);
                        break;
                    }
                }
            }
        }
        lastSampleAt = now;
        lastServiceCpu = service;
        lastGatlingCpu = gatling;
        lastMachineBusy = machine;
    }

    /** Called by the first persona user: the clock of the phases starts when the personas' injection does. */
    void markStart() {
        startMillis.compareAndSet(0, System.currentTimeMillis());
    }

    /** @param responseTimeMs null when no response came back (connection refused, timeout) */
    void record(Integer responseTimeMs, boolean ok) {
        long now = System.currentTimeMillis();
        long t0 = startMillis.get();
        whole.add(responseTimeMs, ok);
        if (t0 == 0) {
            return; // seeding, before the phases start
        }
        long startedAt = now - (responseTimeMs != null ? responseTimeMs : 0) - t0;
        for (Window w : windows) {
            if (startedAt >= w.startMs && startedAt < w.endMs) {
                w.add(responseTimeMs, ok);
                return;
            }
        }
    }

    /** Business outcomes worth showing next to the latency figures (orders placed vs. refused for stock). */
    void count(String outcome) {
        outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
    }

    /**
     * A break of the SLO counts once it is confirmed: this many judged phases in a row broke it. One bad step on a
     * shared machine (a GC pause, a neighbour's burst) does not end a stress run.
     */
    static final int CONFIRMING_BREAKS = 2;

    /**
     * True once CONFIRMING_BREAKS judged phases in a row, each ended at least {@code graceMs} ago, broke the SLO:
     * stress stops there, since the steps above cannot hold either.
     */
    boolean sloBroken(Slo slo, long graceMs) {
        long t0 = startMillis.get();
        if (t0 == 0) {
            return false;
        }
        long elapsed = System.currentTimeMillis() - t0;
        int inARow = 0;
        for (Window w : windows) {
            if (!w.phase.judged() || w.endMs + graceMs > elapsed) {
                continue;
            }
            inARow = w.count() > 0 && !w.verdict(slo).holds() ? inARow + 1 : 0;
            if (inARow >= CONFIRMING_BREAKS) {
                return true;
            }
        }
        return false;
    }

    /** Prints the per-phase table and the gates, writes the summary file, and returns the stress capacity (if any). */
    void report(LoadProfile profile, Settings settings, PrintStream out) {
        Slo slo = profile.slo;
        out.println();
        out.println("================ shop load test: profile " + profile.name().toLowerCase(Locale.ROOT)
                + " against " + settings.baseUrl() + " ================");
        out.printf(Locale.ROOT, "%-28s %9s %9s %8s %7s %7s %8s %9s %10s %9s %11s  %s%n",
                "phase", "target/s", "actual/s", "requests", "p95 ms", "p99 ms", "failed%", "svc cores", "svc ms/req",
                "gen cores", "other cores", "SLO p95<=" + slo.p95Ms()
                        + " p99<=" + slo.p99Ms() + " failed<=" + fmtPct(slo.failedPct()));
        long t0 = startMillis.get();
        long elapsedAtReport = t0 == 0 ? 0 : System.currentTimeMillis() - t0;
        Window lastHolding = null;
        Window firstBroken = null;
        List<Double> stepCpu = new ArrayList<>();
        int breaksInARow = 0;
        boolean breakConfirmed = false;
        for (Window w : windows) {
            if (w.count() == 0 && w.phase.judged()) {
                out.printf(Locale.ROOT, "%-28s %9s %9s %8d %7s %7s %8s  %s%n", w.phase.name(),
                        LoadProfile.fmt(w.phase.toRps()), "-", 0, "-", "-", "-", "not reached");
                continue;
            }
            if (w.count() == 0) {
                continue;
            }
            Verdict v = w.verdict(slo);
            // A phase the run did not get to the end of (stress stopped, maxDuration) proves nothing either way.
            boolean complete = w.endMs <= elapsedAtReport;
            String mark = !w.phase.judged() ? "(not judged)"
                    : !complete ? "(cut short: the run stopped during this phase)"
                    : v.holds() ? "holds" : "BREAKS: " + v.why();
            if (w.phase.judged() && complete && w.serviceCpuMsPerRequest() >= 0) {
                stepCpu.add(w.serviceCpuMsPerRequest());
            }
            out.printf(Locale.ROOT, "%-28s %9s %9.1f %8d %7d %7d %8s %9s %10s %9s %11s  %s%n", w.phase.name(),
                    w.phase.isRamp() ? LoadProfile.fmt(w.phase.fromRps()) + "->" + LoadProfile.fmt(w.phase.toRps())
                            : LoadProfile.fmt(w.phase.toRps()),
                    w.achievedRps(), w.count(), w.percentile(95), w.percentile(99), fmtPct(w.failedPct()),
                    fmtNum(w.serviceCores(), 2), fmtNum(w.serviceCpuMsPerRequest(), 2), fmtNum(w.gatlingCores(), 2),
                    fmtNum(w.otherCores(), 2), mark);
            // Capacity: the last step that held before the confirmed break (a lone broken step is a blip).
            if (profile == LoadProfile.STRESS && w.phase.judged() && complete && !breakConfirmed) {
                if (v.holds()) {
                    lastHolding = w;
                    firstBroken = null;
                    breaksInARow = 0;
                } else {
                    firstBroken = breaksInARow == 0 ? w : firstBroken;
                    breaksInARow++;
                    breakConfirmed = breaksInARow >= CONFIRMING_BREAKS;
                }
            }
        }
        Verdict total = whole.verdict(slo);
        if (Boolean.getBoolean("ledgerDebug")) {
            StringBuilder dbg = new StringBuilder("slowest:");
            for (int ms = MAX_MS; ms >= 200; ms--) {
                if (whole.histogram.get(ms) > 0) {
                    dbg.append(' ').append(ms).append('x').append(whole.histogram.get(ms));
                }
            }
            out.println(dbg);
        }
        out.printf(Locale.ROOT, "%-28s %9s %9s %8d %7d %7d %8s %9s %10s %9s %11s%n", "whole run (incl. seeding)", "", "",
                whole.count(), whole.percentile(95), whole.percentile(99), fmtPct(whole.failedPct()),
                fmtNum(whole.serviceCores(), 2), fmtNum(whole.serviceCpuMsPerRequest(), 2), fmtNum(whole.gatlingCores(), 2),
                fmtNum(whole.otherCores(), 2));
        String stepSpread = spread(stepCpu);
        if (stepSpread != null) {
            // The whole-run figure includes the JIT's warm-up and the seeding; the steps show how far apart the
            // service's CPU per request is from step to step (make bench withholds a figure past 10 %).
            out.println("svc ms/req over the " + stepCpu.size() + " judged steps: " + stepSpread);
        }
        out.println("(svc cores / gen cores: cores busy with the service (needs -DservicePid) and with Gatling itself;"
                + " svc ms/req: service CPU time per request; other cores: the rest of the machine's busy time -"
                + " PostgreSQL, span sink, neighbours)");
        if (!outcomes.isEmpty()) {
            StringBuilder sb = new StringBuilder("business outcomes:");
            outcomes.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> sb.append(' ').append(e.getKey()).append('=').append(e.getValue().sum()));
            out.println(sb);
        }

        Properties summary = new Properties();
        summary.setProperty("profile", profile.name().toLowerCase(Locale.ROOT));
        summary.setProperty("baseUrl", settings.baseUrl());
        summary.setProperty("requests", Long.toString(whole.count()));
        summary.setProperty("p95Ms", Long.toString(whole.percentile(95)));
        summary.setProperty("p99Ms", Long.toString(whole.percentile(99)));
        summary.setProperty("failedPct", fmtPct(whole.failedPct()));
        summary.setProperty("wallSeconds", String.format(Locale.ROOT, "%.1f", whole.sampledWallNanos.sum() / 1e9));
        summary.setProperty("gatlingCpuSeconds", String.format(Locale.ROOT, "%.1f", whole.gatlingCpuNanos.sum() / 1e9));
        summary.setProperty("gatlingCores", fmtNum(whole.gatlingCores(), 2));
        if (whole.serviceCpuKnown) {
            summary.setProperty("serviceCpuSeconds", String.format(Locale.ROOT, "%.1f", whole.serviceCpuNanos.sum() / 1e9));
            summary.setProperty("serviceCores", fmtNum(whole.serviceCores(), 2));
            summary.setProperty("serviceCpuMsPerRequest", fmtNum(whole.serviceCpuMsPerRequest(), 3));
        }
        if (stepSpread != null) {
            summary.setProperty("steps.serviceCpuMsPerRequest", stepSpread);
        }

        if (profile == LoadProfile.STRESS) {
            out.println("---------------- capacity (last step that held the SLO) ----------------");
            if (lastHolding == null) {
                out.println("CAPACITY: none - no step held the SLO"
                        + (firstBroken != null ? " (" + firstBroken.verdict(slo).why() + ")" : "")
                        + "; retry with a smaller -Drps");
                summary.setProperty("capacity.rps", "0");
            } else {
                out.printf(Locale.ROOT, "CAPACITY: %.1f requests/s sustained at the SLO (%s: p95 %d ms, p99 %d ms, failed %s)%n",
                        lastHolding.achievedRps(), lastHolding.phase.name(), lastHolding.percentile(95),
                        lastHolding.percentile(99), fmtPct(lastHolding.failedPct()));
                out.println(firstBroken != null
                        ? "           from " + firstBroken.phase.name() + " on, the SLO broke: " + firstBroken.verdict(slo).why()
                        : "           no step broke the SLO: the capacity is at least this; rerun with more -Dsteps or a larger -Drps");
                summary.setProperty("capacity.rps", String.format(Locale.ROOT, "%.1f", lastHolding.achievedRps()));
                summary.setProperty("capacity.targetRps", LoadProfile.fmt(lastHolding.phase.toRps()));
                summary.setProperty("capacity.step", lastHolding.phase.name());
                summary.setProperty("capacity.p95Ms", Long.toString(lastHolding.percentile(95)));
                summary.setProperty("capacity.p99Ms", Long.toString(lastHolding.percentile(99)));
                summary.setProperty("capacity.failedPct", fmtPct(lastHolding.failedPct()));
                summary.setProperty("capacity.requests", Long.toString(lastHolding.count()));
                summary.setProperty("capacity.gatlingCores", fmtNum(lastHolding.gatlingCores(), 2));
                summary.setProperty("capacity.otherCores", fmtNum(lastHolding.otherCores(), 2));
                if (lastHolding.serviceCpuKnown) {
                    summary.setProperty("capacity.serviceCores", fmtNum(lastHolding.serviceCores(), 2));
                    summary.setProperty("capacity.serviceCpuMsPerRequest", fmtNum(lastHolding.serviceCpuMsPerRequest(), 3));
                }
                summary.setProperty("capacity.limitFound", Boolean.toString(firstBroken != null));
                if (firstBroken != null) {
                    summary.setProperty("capacity.brokenBy", firstBroken.phase.name() + ": " + firstBroken.verdict(slo).why());
                }
            }
            out.println("(stress gates the run only on 'successful requests >= 50 %': finding the limit is not a failure)");
        } else {
            out.println("---------------- SLO gates (Gatling's assertions below are the ones that fail the build) ----------------");
            for (String line : total.gateLines(slo)) {
                out.println(line);
            }
        }
        out.println("==========================================================================================");
        try {
            Path file = settings.summaryFile().toAbsolutePath();
            Files.createDirectories(file.getParent());
            // Properties escapes values for us; sorting the lines keeps the file readable and diffable.
            java.io.StringWriter text = new java.io.StringWriter();
            summary.store(text, null);
            List<String> lines = new ArrayList<>(text.toString().lines().filter(l -> !l.startsWith("#")).sorted().toList());
            lines.add(0, "# shop load test summary, written by SloLedger at the end of the run");
            Files.write(file, lines);
            out.println("summary: " + file);
        } catch (IOException e) {
            out.println("could not write the summary file: " + e);
        }
    }

    /** "min-max ms, spread N %" of per-step figures ((max - min) / min, as make bench's rounds), or null if none. */
    static String spread(List<Double> msPerRequest) {
        if (msPerRequest.isEmpty()) {
            return null;
        }
        double min = msPerRequest.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = msPerRequest.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return String.format(Locale.ROOT, "%.2f-%.2f ms, spread %s", min, max,
                min > 0 ? String.format(Locale.ROOT, "%.0f %%", 100 * (max - min) / min) : "-");
    }

    static String fmtNum(double value, int decimals) {
        return value < 0 ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    static String fmtPct(double pct) {
        return String.format(Locale.ROOT, "%.2f%%", pct);
    }

    /** The figures of one window against one SLO. */
    record Verdict(long p95, long p99, double failedPct, Slo slo) {
        boolean holds() {
            return p95 <= slo.p95Ms() && p99 <= slo.p99Ms() && failedPct <= slo.failedPct();
        }

        String why() {
            List<String> reasons = new ArrayList<>();
            if (p95 > slo.p95Ms()) {
                reasons.add("p95 " + p95 + " ms > " + slo.p95Ms() + " ms");
            }
            if (p99 > slo.p99Ms()) {
                reasons.add("p99 " + p99 + " ms > " + slo.p99Ms() + " ms");
            }
            if (failedPct > slo.failedPct()) {
                reasons.add("failed " + fmtPct(failedPct) + " > " + fmtPct(slo.failedPct()));
            }
            return String.join(", ", reasons);
        }

        List<String> gateLines(Slo s) {
            return List.of(
                    gate("p95 response time", p95, s.p95Ms(), " ms"),
                    gate("p99 response time", p99, s.p99Ms(), " ms"),
                    String.format(Locale.ROOT, "GATE %-20s %-6s actual %8s, limit %8s, %s", "failed requests",
                            failedPct <= s.failedPct() ? "PASSED" : "FAILED", fmtPct(failedPct), fmtPct(s.failedPct()),
                            failedPct <= s.failedPct()
                                    ? String.format(Locale.ROOT, "margin %.2f points", s.failedPct() - failedPct)
                                    : String.format(Locale.ROOT, "over by %.2f points", failedPct - s.failedPct())));
        }

        private static String gate(String name, long actual, long limit, String unit) {
            boolean ok = actual <= limit;
            long diff = Math.abs(limit - actual);
            return String.format(Locale.ROOT, "GATE %-20s %-6s actual %8s, limit %8s, %s", name, ok ? "PASSED" : "FAILED",
                    actual + unit, limit + unit,
                    ok ? "margin " + diff + unit
                            : "over by " + diff + unit + String.format(Locale.ROOT, " (+%.0f%%)", 100.0 * diff / Math.max(1, limit)));
        }
    }

    /** Requests that started within one phase. */
    private static final class Window {
        final Phase phase;
        final long startMs;
        final long endMs;
        final AtomicLongArray histogram = new AtomicLongArray(MAX_MS + 1);
        final LongAdder timed = new LongAdder();
        final LongAdder requests = new LongAdder();
        final LongAdder failed = new LongAdder();
        final LongAdder sampledWallNanos = new LongAdder();
        final LongAdder serviceCpuNanos = new LongAdder();
        final LongAdder gatlingCpuNanos = new LongAdder();
        final LongAdder machineBusyNanos = new LongAdder();
        volatile boolean serviceCpuKnown;
        volatile boolean machineKnown;

        Window(Phase phase, long startMs, long endMs) {
            this.phase = phase;
            this.startMs = startMs;
            this.endMs = endMs;
        }

        void add(Integer responseTimeMs, boolean ok) {
            requests.increment();
            if (!ok) {
                failed.increment();
            }
            // A request without a response never finished: it counts as failed and at the timeout for latency.
            int ms = responseTimeMs == null ? MAX_MS : Math.max(0, Math.min(MAX_MS, responseTimeMs));
            histogram.incrementAndGet(ms);
            timed.increment();
        }

        long count() {
            return requests.sum();
        }

        void addCpu(long wallNanos, long serviceNanos, long gatlingNanos, long machineNanos) {
            sampledWallNanos.add(wallNanos);
            if (machineNanos >= 0) {
                machineBusyNanos.add(machineNanos);
                machineKnown = true;
            }
            if (serviceNanos >= 0) {
                serviceCpuNanos.add(serviceNanos);
                serviceCpuKnown = true;
            }
            if (gatlingNanos >= 0) {
                gatlingCpuNanos.add(gatlingNanos);
            }
        }

        /** Average number of cores busy with the service during this phase, or -1 if not measured. */
        double serviceCores() {
            long wall = sampledWallNanos.sum();
            return serviceCpuKnown && wall > 0 ? (double) serviceCpuNanos.sum() / wall : -1;
        }

        double gatlingCores() {
            long wall = sampledWallNanos.sum();
            return wall > 0 ? (double) gatlingCpuNanos.sum() / wall : -1;
        }

        /** Cores busy with anything but the service and Gatling (PostgreSQL, neighbours), or -1 if unknown. */
        double otherCores() {
            long wall = sampledWallNanos.sum();
            if (!machineKnown || wall <= 0) {
                return -1;
            }
            long others = machineBusyNanos.sum() - gatlingCpuNanos.sum() - (serviceCpuKnown ? serviceCpuNanos.sum() : 0);
            return Math.max(0, (double) others / wall);
        }

        /** Service CPU milliseconds per request handled in this phase, or -1 if not measured. */
        double serviceCpuMsPerRequest() {
            return serviceCpuKnown && count() > 0 ? serviceCpuNanos.sum() / 1e6 / count() : -1;
        }

        double failedPct() {
            long n = count();
            return n == 0 ? 0 : 100.0 * failed.sum() / n;
        }

        double achievedRps() {
            return count() / Math.max(0.001, phase.duration().toMillis() / 1000.0);
        }

        /** Nearest-rank percentile, in whole milliseconds. */
        long percentile(double p) {
            long n = timed.sum();
            if (n == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(p / 100.0 * n);
            long seen = 0;
            for (int ms = 0; ms <= MAX_MS; ms++) {
                seen += histogram.get(ms);
                if (seen >= rank) {
                    return ms;
                }
            }
            return MAX_MS;
        }

        Verdict verdict(Slo slo) {
            return new Verdict(percentile(95), percentile(99), failedPct(), slo);
        }
    }
}
