package dev.shopwatch.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Gives the application under test a key file with {@link TestKeys#admin()} and {@link TestKeys#client()}, re-read every
 * 100 ms (the rotation test edits it). Registered globally by AuthTest.
 */
public class ApiKeysResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("shop.api-keys-file", TestKeys.writeKeyFile().toString(), "shop.api-keys-reload-interval-ms", "100");
    }

    @Override
    public void stop() {
    }
}
