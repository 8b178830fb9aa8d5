package dev.shopwatch.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys for the tests, made at random when first asked for (none is in git) and kept in system properties, so the
 * test class loaders and the test resource that writes the key file see the same keys.
 */
public final class TestKeys {

    private static final SecureRandom RANDOM = new SecureRandom();

    private TestKeys() {
    }

    /** A key with the admin role (catalog writes). */
    public static String admin() {
        return key("admin");
    }

    /** A key with the client role (orders). */
    public static String client() {
        return key("client");
    }

    private static synchronized String key(String role) {
        String property = "shop.test.api-key." + role;
        String key = System.getProperty(property);
        if (key == null) {
            key = generate();
            System.setProperty(property, key);
        }
        return key;
    }

    /** A new key as Contract A defines it: {@code shop_} and 32 random bytes in unpadded base64url (43 characters). */
    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "shop_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static String sha256Hex(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key file for {@link #admin()} and {@link #client()}. */
    public static String keyFile() {
        return "# test keys, written by TestKeys\n"
                + "test-admin admin " + sha256Hex(admin()) + "\n"
                + "test-client client " + sha256Hex(client()) + "\n";
    }

    /** {@link #keyFile()} written to a new temporary file. */
    public static Path writeKeyFile() {
        try {
            Path file = Files.createTempFile("shop-api-keys-", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, keyFile());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
