package dev.shopwatch.auth;

import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The key file of this service instance, read at start-up (a bad one stops the start: {@link KeyFile#open}) and
 * re-read every second on a thread of its own, so the request path only reads a volatile field.
 */
@Startup
@ApplicationScoped
public class ApiKeyStore {

    private static final Logger LOG = Logger.getLogger(ApiKeyStore.class);

    private final KeyFile file;
    private final ScheduledExecutorService reloader;

    ApiKeyStore(@ConfigProperty(name = "shop.api-keys-file") Optional<String> path,
            @ConfigProperty(name = "shop.api-keys-reload-interval-ms", defaultValue = "1000") long intervalMs) {
        this.file = KeyFile.open(path);
        this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "api-keys-reload");
            t.setDaemon(true);
            return t;
        });
        reloader.scheduleWithFixedDelay(this::reload, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    private void reload() {
        KeyFile.Reload r = file.reload();
        switch (r.outcome()) {
            case RELOADED -> LOG.info(r.message());
            case REFUSED -> LOG.error(r.message());
            case UNCHANGED -> {
            }
        }
    }

    public ApiKeys keys() {
        return file.keys();
    }

    @PreDestroy
    void stop() {
        reloader.shutdownNow();
    }
}
