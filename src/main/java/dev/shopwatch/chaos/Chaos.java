package dev.shopwatch.chaos;

import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The current fault-injection settings, shared by the management endpoint and the API filter. They start from
 * {@code shop.chaos.*} (SHOP_CHAOS_LATENCY_MS, SHOP_CHAOS_LATENCY_RATE, SHOP_CHAOS_ERROR_RATE), off by default: a
 * deployment can start faulty without anyone calling the endpoint (a bad canary on Kubernetes, see
 * k8s/components/canary). Created at start-up, so an invalid value stops the service before it serves anything.
 */
@Startup
@ApplicationScoped
public class Chaos {

    private static final Logger LOG = Logger.getLogger(Chaos.class);
    private final AtomicReference<ChaosSettings> settings;

    @Inject
    Chaos(@ConfigProperty(name = "shop.chaos.latency-ms") Optional<String> latencyMs,
            @ConfigProperty(name = "shop.chaos.latency-rate") Optional<String> latencyRate,
            @ConfigProperty(name = "shop.chaos.error-rate") Optional<String> errorRate) {
        settings = new AtomicReference<>(ChaosSettings.initial(latencyMs, latencyRate, errorRate));
    }

    /** No faults at start (plain unit tests). */
    Chaos() {
        this(Optional.empty(), Optional.empty(), Optional.empty());
    }

    public ChaosSettings current() {
        return settings.get();
    }

    public ChaosSettings update(ChaosSettings change) {
        ChaosSettings next = settings.updateAndGet(change::merge);
        LOG.warnf("Chaos settings changed: latencyMs=%d latencyRate=%s errorRate=%s", next.latencyMs(), next.latencyRate(),
                next.errorRate());
        return next;
    }

    public ChaosSettings reset() {
        settings.set(ChaosSettings.OFF);
        LOG.info("Chaos settings reset: no faults injected");
        return ChaosSettings.OFF;
    }

    /** @return the delay to apply to this request in ms, 0 for none */
    long drawLatency(ChaosSettings s) {
        return s.latencyMs() > 0 && s.latencyRate() > 0 && ThreadLocalRandom.current().nextDouble() < s.latencyRate()
                ? s.latencyMs() : 0;
    }

    boolean drawError(ChaosSettings s) {
        return s.errorRate() > 0 && ThreadLocalRandom.current().nextDouble() < s.errorRate();
    }
}
