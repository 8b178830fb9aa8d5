package dev.shopwatch.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The key file named by {@code SHOP_API_KEYS_FILE} and the keys last read from it. {@link #reload()} reads it again
 * and swaps the keys in when its content changed, so a rotated Kubernetes Secret (or an edited file) takes effect
 * without a restart. At start-up a missing, unreadable or malformed file is fatal; later, a bad change is logged and
 * the keys in force stay. No logging here: {@link #reload()} says what happened and the caller logs it.
 */
public final class KeyFile {

    static final String VARIABLE = "SHOP_API_KEYS_FILE";

    private final Path path;
    private volatile ApiKeys keys;
    private byte[] content;

    private KeyFile(Path path, byte[] content, ApiKeys keys) {
        this.path = path;
        this.content = content;
        this.keys = keys;
    }

    /**
     * Reads the file the variable names.
     *
     * @throws IllegalStateException with a one-line message naming the variable, the path and the line number
     */
    public static KeyFile open(Optional<String> configured) {
        String where = configured.map(String::strip).filter(s -> !s.isEmpty())
                .orElseThrow(() -> new IllegalStateException(VARIABLE + " is not set: the service needs a file of hashed API keys"
                        + " ('<key-id> <roles> <sha256-hex>' per line, README \"Authentication\")"));
        Path path = Path.of(where);
        byte[] content;
        try {
            content = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new IllegalStateException(VARIABLE + "=" + where + ": cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        try {
            return new KeyFile(path, content, parse(content));
        } catch (ApiKeys.KeyFileException e) {
            throw new IllegalStateException(VARIABLE + "=" + where + ": " + e.getMessage());
        }
    }

    public ApiKeys keys() {
        return keys;
    }

    /** What a {@link #reload()} did; {@code message} (one line, no key material) says it for the log. */
    public record Reload(Outcome outcome, String message) {
    }

    public enum Outcome {
        /** the content is what was read last time */
        UNCHANGED,
        /** new keys are in force */
        RELOADED,
        /** unreadable or malformed: the keys read before stay in force */
        REFUSED
    }

    /** Reads the file again and uses its keys when its content changed and is valid. */
    public synchronized Reload reload() {
        byte[] now;
        try {
            now = Files.readAllBytes(path);
        } catch (IOException e) {
            return new Reload(Outcome.REFUSED, VARIABLE + "=" + path + " cannot be read (" + e.getClass().getSimpleName()
                    + "); the " + keys.size() + " keys read before stay valid");
        }
        if (Arrays.equals(now, content)) {
            return new Reload(Outcome.UNCHANGED, null);
        }
        content = now;
        try {
            keys = parse(now);
        } catch (ApiKeys.KeyFileException e) {
            return new Reload(Outcome.REFUSED, VARIABLE + "=" + path + " changed but is invalid, " + e.getMessage() + "; the "
                    + keys.size() + " keys read before stay valid");
        }
        return new Reload(Outcome.RELOADED, "API keys reloaded from " + path + ": " + keys.size() + " credentials ("
                + String.join(", ", keys.entries().stream().map(ApiKeys.Entry::id).toList()) + ")");
    }

    private static ApiKeys parse(byte[] content) {
        return ApiKeys.parse(List.of(new String(content, StandardCharsets.UTF_8).split("\n", -1)));
    }
}
