package dev.shopwatch.loadtest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The five traffic shapes and the SLO gates each one must pass. Rates are in requests per second of the whole
 * mix; {@link ShopSimulation} turns them into arrival rates per persona.
 */
enum LoadProfile {

    /** A handful of concurrent users for ~20 s: proves the path works end to end. Runs in CI. */
    SMOKE(new Slo(500, 1000, 1.0)),
    /** Steady open-model arrival rate at the expected production load. */
    LOAD(Slo.SERVICE),
    /** Steps the arrival rate up until a step breaks the SLO; the last step that held is the capacity. */
    STRESS(Slo.SERVICE),
    /** Baseline, a sudden burst of five times the baseline, then baseline again: does it absorb and recover? */
    SPIKE(new Slo(500, 1000, 2.0)),
    /** The load profile held for a long time: leaks, pool exhaustion, slow drifts. */
    SOAK(new Slo(250, 500, 0.5));

    static final double SPIKE_FACTOR = 5;

    /** The gate of this profile: for STRESS it judges each step, not the whole run. */
    final Slo slo;

    LoadProfile(Slo slo) {
        this.slo = slo;
    }

    /** p95 and p99 response time ceilings (ms) and the failed-request ceiling (% of all requests). */
    record Slo(int p95Ms, int p99Ms, double failedPct) {
        /** The service's SLO; stress measures capacity against it. */
        static final Slo SERVICE = new Slo(250, 500, 1.0);
    }

    /**
     * One stretch of the injection. A ramp when fromRps differs from toRps. Judged phases are reported on their
     * own (and, for stress, decide the capacity).
     */
    record Phase(String name, double fromRps, double toRps, Duration duration, boolean judged) {
        boolean isRamp() {
            return fromRps != toRps;
        }
    }

    /** What to inject: closed model (smoke: concurrent users) or open model (arrival rates) phase after phase. */
    record Plan(boolean closedModel, int concurrentUsers, List<Phase> phases) {
        Duration total() {
            return phases.stream().map(Phase::duration).reduce(Duration.ZERO, Duration::plus);
        }
    }

    Plan plan(Settings settings) {
        List<Phase> phases = new ArrayList<>();
        switch (this) {
            case SMOKE -> {
                phases.add(new Phase("smoke", 0, 0, settings.durationOr(Duration.ofSeconds(20)), true));
                return new Plan(true, settings.usersOr(6), phases);
            }
            case LOAD, SOAK -> {
                double rps = settings.rpsOr(this == LOAD ? 100 : 80);
                Duration steady = settings.durationOr(this == LOAD ? Duration.ofMinutes(2) : Duration.ofMinutes(30));
                phases.add(new Phase("ramp-up", 0, rps, Duration.ofSeconds(this == LOAD ? 15 : 30), false));
                phases.add(new Phase("steady " + fmt(rps) + " rps", rps, rps, steady, true));
            }
            case STRESS -> {
                // -Drps is both the first step and the increment; -Dduration the length of one step.
                double step = settings.rpsOr(100);
                int steps = settings.stepsOr(20);
                Duration level = settings.durationOr(Duration.ofSeconds(20));
                phases.add(new Phase("warm-up", 0, step, Duration.ofSeconds(10), false));
                for (int i = 1; i <= steps; i++) {
                    double rps = step * i;
                    if (i > 1) {
                        phases.add(new Phase("ramp to step " + i, rps - step, rps, Duration.ofSeconds(2), false));
                    }
                    phases.add(new Phase("step " + i + " @ " + fmt(rps) + " rps", rps, rps, level, true));
                }
            }
            case SPIKE -> {
                double base = settings.rpsOr(30);
                double peak = base * SPIKE_FACTOR;
                phases.add(new Phase("ramp-up", 0, base, Duration.ofSeconds(10), false));
                phases.add(new Phase("baseline " + fmt(base) + " rps", base, base, Duration.ofSeconds(30), true));
                phases.add(new Phase("surge", base, peak, Duration.ofSeconds(2), true));
                phases.add(new Phase("spike " + fmt(peak) + " rps", peak, peak, settings.durationOr(Duration.ofSeconds(20)), true));
                phases.add(new Phase("fall back", peak, base, Duration.ofSeconds(2), true));
                phases.add(new Phase("recovery " + fmt(base) + " rps", base, base, Duration.ofSeconds(30), true));
            }
            default -> throw new IllegalStateException("unknown profile " + this);
        }
        return new Plan(false, 0, phases);
    }

    static String fmt(double rps) {
        return rps == Math.rint(rps) ? Long.toString((long) rps) : String.format(java.util.Locale.ROOT, "%.1f", rps);
    }
}
