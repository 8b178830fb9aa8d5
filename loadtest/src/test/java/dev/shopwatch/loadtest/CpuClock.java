package dev.shopwatch.loadtest;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time consumed so far, in nanoseconds, by this JVM (the load generator) and, when the run is told its process
 * id with -DservicePid (make capacity does), by the service under test: utime + stime from /proc/PID/stat.
 * Together they tell how much of the machine each side took, and the service's CPU cost per request.
 */
final class CpuClock {

    private final Path serviceStat;
    private final long clockTicksPerSecond;

    CpuClock(String servicePid, long clockTicksPerSecond) {
        this.serviceStat = servicePid == null || servicePid.isBlank() ? null : Path.of("/proc", servicePid.trim(), "stat");
        this.clockTicksPerSecond = clockTicksPerSecond;
    }

    static CpuClock fromSystemProperties() {
        return new CpuClock(System.getProperty("servicePid"), Long.getLong("clockTicks", 100));
    }

    boolean watchesService() {
        return serviceStat != null;
    }

    /** CPU time of the Gatling JVM, or -1 when the JVM does not expose it. */
    long gatlingNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * CPU time the whole machine spent busy (all cores: user, nice, system, irq, softirq, steal from the first
     * line of /proc/stat), or -1 off Linux. Busy minus the service and Gatling is everything else: PostgreSQL,
     * the span sink, and any neighbour that competed for the cores during the run.
     */
    long machineBusyNanos() {
        try {
            String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
            String[] f = cpu.trim().split("\\s+");
            long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]) + Long.parseLong(f[8]);
            return busy * 1_000_000_000L / clockTicksPerSecond;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** CPU time of the service process (user + system), or -1 when unknown or gone. */
    long serviceNanos() {
        if (serviceStat == null) {
            return -1;
        }
        try {
            String stat = Files.readString(serviceStat);
            // Fields after "(comm)": state is field 3, utime field 14, stime field 15 (proc(5)); comm may hold spaces.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return ticks * 1_000_000_000L / clockTicksPerSecond;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
