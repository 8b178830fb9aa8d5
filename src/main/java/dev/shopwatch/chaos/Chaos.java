package dev.shopwatch.chaos;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/** The current fault-injection settings, shared by the management endpoint and the API filter. */
@ApplicationScoped
public class Chaos {

    private static final Logger LOG = Logger.getLogger(Chaos.class);
    private final AtomicReference<ChaosSettings> settings = new AtomicReference<>(ChaosSettings.OFF);

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
