package dev.shopwatch.support;

import org.eclipse.microprofile.config.ConfigProvider;

/** URLs on the management interface; the tests run it on a random port, published by Quarkus once bound. */
public final class Management {

    private Management() {
    }

    public static String url(String path) {
        String port = System.getProperty("quarkus.management.test-port");
        if (port == null || "0".equals(port)) {
            port = ConfigProvider.getConfig().getOptionalValue("quarkus.management.test-port", String.class).orElse("9001");
        }
        return "http://localhost:" + port + path;
    }
}
