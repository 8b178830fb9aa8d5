package dev.shopwatch.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;

/**
 * The API keys the service accepts, as read from the key file (README, "Authentication"): one credential per line,
 * {@code <key-id> <roles> <sha256-hex>}, {@code #} comments and blank lines allowed. Only the SHA-256 of each key is
 * held; a presented key is hashed and compared with every stored hash in constant time.
 */
public final class ApiKeys {

    /** The roles a key may carry; {@code @RolesAllowed} on the resources names them. */
    public static final Set<String> ROLES = Set.of(Roles.ADMIN, Roles.CLIENT);

    private static final Pattern KEY_ID = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    /** {@code shop_} and 43 base64url characters: 32 random bytes, unpadded. */
    private static final Pattern KEY_SHAPE = Pattern.compile("shop_[A-Za-z0-9_-]{43}");

    /** One accepted credential: its non-secret name (the principal), its roles and the hash of the key. */
    public record Entry(String id, Set<String> roles, byte[] hash) {
    }

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public int size() {
        return entries.size();
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Whether {@code token} has the shape of a key this service issues; anything else is a malformed credential. */
    public static boolean hasKeyShape(String token) {
        return KEY_SHAPE.matcher(token).matches();
    }

    /**
     * The entry whose hash is the SHA-256 of {@code key}. Every stored hash is compared, with
     * {@link MessageDigest#isEqual} (time independent of where the bytes differ), and the loop never stops early, so
     * the time taken says nothing about which key or which byte was close.
     */
    public Optional<Entry> find(String key) {
        return find(key, MessageDigest::isEqual);
    }

    /** {@link #find(String)} with the byte comparison given, so a test can count the comparisons made. */
    Optional<Entry> find(String key, BiPredicate<byte[], byte[]> equal) {
        byte[] presented = sha256(key);
        Entry found = null;
        for (Entry e : entries) {
            if (equal.test(presented, e.hash()) & found == null) {
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    public static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Parses the key file's lines. An error names the line number and what is wrong, never the line's content (it
     * holds a hash).
     *
     * @throws KeyFileException when a line is malformed, a key id repeats, or no credential is listed
     */
    public static ApiKeys parse(List<String> lines) {
        List<Entry> entries = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            int number = i + 1;
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] fields = line.split("\\s+");
            if (fields.length != 3) {
                throw new KeyFileException(number, "expected 3 fields '<key-id> <roles> <sha256-hex>', found " + fields.length);
            }
            if (!KEY_ID.matcher(fields[0]).matches()) {
                throw new KeyFileException(number, "the key id must match [a-z0-9][a-z0-9-]*");
            }
            if (!ids.add(fields[0])) {
                throw new KeyFileException(number, "key id '" + fields[0] + "' is listed twice");
            }
            Set<String> roles = new LinkedHashSet<>();
            for (String role : fields[1].split(",", -1)) {
                if (!ROLES.contains(role)) {
                    throw new KeyFileException(number, "roles must be a comma-separated list of admin, client");
                }
                roles.add(role);
            }
            if (!SHA256_HEX.matcher(fields[2]).matches()) {
                throw new KeyFileException(number, "the hash must be 64 lowercase hexadecimal characters (SHA-256)");
            }
            entries.add(new Entry(fields[0], Set.copyOf(roles), HexFormat.of().parseHex(fields[2])));
        }
        if (entries.isEmpty()) {
            throw new KeyFileException(0, "no credential line (the file is empty or only comments)");
        }
        return new ApiKeys(entries);
    }

    /** A key file the service cannot use; the message is one line and carries no key material. */
    public static final class KeyFileException extends RuntimeException {

        private final int line;

        public KeyFileException(int line, String problem) {
            super(line > 0 ? "line " + line + ": " + problem : problem, null, false, false);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }
}
