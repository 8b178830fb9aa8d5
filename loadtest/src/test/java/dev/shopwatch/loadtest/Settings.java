package dev.shopwatch.loadtest;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The run's knobs, read once from system properties ({@code mvn gatling:test -Dprofile=load -Drps=80}).
 * What each knob means for each profile is in {@link LoadProfile} and in loadtest/README.md.
 */
record Settings(LoadProfile profile, String baseUrl, Integer users, Double rps, Duration duration, Integer steps,
                Path summaryFile, String adminKey, String clientKey) {

    static Settings fromSystemProperties() {
        String profileName = System.getProperty("profile", "smoke").trim().toLowerCase(Locale.ROOT);
        LoadProfile profile;
        try {
            profile = LoadProfile.valueOf(profileName.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-Dprofile=" + profileName + " is not one of smoke, load, stress, spike, soak");
        }
        String baseUrl = stripTrailingSlash(System.getProperty("baseUrl", "http://localhost:8080").trim());
        requireLoopback(baseUrl, Boolean.getBoolean("allowRemoteTarget"));
        return new Settings(profile, baseUrl,
                intOrNull("users"), doubleOrNull("rps"), durationOrNull("duration"), intOrNull("steps"),
                Path.of(System.getProperty("summaryFile", "target/loadtest-summary.properties")),
                apiKey("SHOP_ADMIN_KEY", "admin"), apiKey("SHOP_CLIENT_KEY", "client"));
    }

    /**
     * An API key from the environment (never a system property: those show in process listings and Maven's logs).
     * Every profile writes (seeding creates products, admins edit them, buyers order), so a missing key stops the run
     * before the first request.
     */
    private static String apiKey(String variable, String role) {
        String key = System.getenv(variable);
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException(variable + " is not set: the load test writes, which needs the " + role
                    + " API key (make credential ROLE=" + role + "; make capacity, test-load and load against compose set it)");
        }
        return key.strip();
    }

    int usersOr(int fallback) {
        return users != null ? users : fallback;
    }

    double rpsOr(double fallback) {
        return rps != null ? rps : fallback;
    }

    Duration durationOr(Duration fallback) {
        return duration != null ? duration : fallback;
    }

    int stepsOr(int fallback) {
        return steps != null ? steps : fallback;
    }

    /**
     * Load is only ever aimed at this machine (loopback) unless the caller says otherwise on purpose: a stress
     * profile pointed at a shared environment by a typo is an outage.
     */
    private static void requireLoopback(String baseUrl, boolean allowRemote) {
        URI uri = URI.create(baseUrl);
        if (uri.getHost() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new IllegalArgumentException("-DbaseUrl=" + baseUrl + " is not an http(s) URL");
        }
        if (allowRemote) {
            return;
        }
        try {
            for (InetAddress address : InetAddress.getAllByName(uri.getHost())) {
                if (!address.isLoopbackAddress()) {
                    throw new IllegalArgumentException("-DbaseUrl=" + baseUrl + " resolves to " + address.getHostAddress()
                            + ", which is not a loopback address; add -DallowRemoteTarget=true if you really mean it");
                }
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("-DbaseUrl=" + baseUrl + ": unknown host " + uri.getHost(), e);
        }
    }

    private static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static Integer intOrNull(String name) {
        return parsed(name, Integer::valueOf, v -> v >= 1, "a positive whole number");
    }

    private static Double doubleOrNull(String name) {
        return parsed(name, Double::valueOf, v -> v > 0, "a positive number");
    }

    /** The system property, parsed and checked; null when unset; a readable error when malformed. */
    private static <T> T parsed(String name, java.util.function.Function<String, T> parse,
                                java.util.function.Predicate<T> valid, String expected) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            T result = parse.apply(value.trim());
            if (valid.test(result)) {
                return result;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + name + "=" + value + " is not " + expected);
    }

    /** Accepts {@code 90}, {@code 90s}, {@code 5m} or {@code 1h}; a bare number is seconds. */
    private static Duration durationOrNull(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            long amount;
            Duration unit;
            if (v.endsWith("h")) {
                amount = Long.parseLong(v.substring(0, v.length() - 1));
                unit = Duration.ofHours(1);
            } else if (v.endsWith("m")) {
                amount = Long.parseLong(v.substring(0, v.length() - 1));
                unit = Duration.ofMinutes(1);
            } else if (v.endsWith("s")) {
                amount = Long.parseLong(v.substring(0, v.length() - 1));
                unit = Duration.ofSeconds(1);
            } else {
                amount = Long.parseLong(v);
                unit = Duration.ofSeconds(1);
            }
            if (amount < 1) {
                throw new NumberFormatException();
            }
            return unit.multipliedBy(amount);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + name + "=" + value + " is not a duration such as 90, 90s, 5m or 1h");
        }
    }
}
