package dev.shopwatch.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.networknt.schema.oas.OpenApi31;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The published OpenAPI document (/q/openapi of the application under test) as the oracle of every API response the
 * tests receive. {@link #check} finds the operation of a request (method and path template), and fails when the
 * status is not documented for it, when the Content-Type is not one of that status's media types (or a body comes
 * where the document describes none), when the body does not validate against the media type's schema (JSON Schema
 * 2020-12 with the OpenAPI 3.1 dialect: nulls, types, required and bounds), or when a required header is missing or
 * invalid. The document is read closed-world: an object schema that names its properties allows no others, so a
 * property the service adds without documenting it fails too. Requests that match no documented operation (unknown
 * paths and methods: 404/405) are not checked.
 *
 * <p>Each checked response is appended to {@code shop.contract.seen} (operationId, status) and the document is
 * written to {@code shop.contract.document}; OpenApiCoverageIT reads both after the suite.
 */
public final class OpenApiContract {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Where the in-memory copy of the document lives for the validator: any absolute IRI, nothing is fetched. */
    private static final String IRI = "https://contract.shopwatch.test/openapi.json";
    private static final Map<String, Optional<OpenApiContract>> BY_ORIGIN = new ConcurrentHashMap<>();
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

    private final List<Operation> operations = new ArrayList<>();
    private final JsonSchemaFactory factory;
    private final SchemaValidatorsConfig config = SchemaValidatorsConfig.builder()
            .pathType(PathType.JSON_POINTER).formatAssertionsEnabled(true).build();
    private final Map<String, JsonSchema> schemas = new ConcurrentHashMap<>();
    private final ObjectNode document;

    private record Operation(String id, String method, String template, Pattern pattern, JsonNode responses) {
    }

    private OpenApiContract(JsonNode published) {
        ObjectNode doc = published.deepCopy();
        closeObjectSchemas(doc.path("components").path("schemas"));
        ObjectNode defs = doc.putObject("$defs");
        Map<String, JsonNode> routes = operations(doc);
        if (routes.isEmpty()) {
            throw new AssertionError("The OpenAPI document has no operations");
        }
        routes.forEach((route, operation) -> {
            String[] methodAndTemplate = route.split(" ", 2);
            String id = operation.path("operationId").asText(route);
            JsonNode responses = operation.path("responses");
            // Every media type's schema and header schema is also reachable under $defs/<operationId>-<status>-<n>:
            // a plain pointer for the validator, and its $refs still resolve in the same document.
            responses.fields().forEachRemaining(response -> {
                JsonNode resolved = resolve(doc, response.getValue());
                int n = 0;
                for (JsonNode media : resolved.path("content")) {
                    if (media.has("schema")) {
                        defs.set(defName(id, response.getKey(), n), media.get("schema"));
                    }
                    n++;
                }
                resolved.path("headers").fields().forEachRemaining(header -> {
                    JsonNode spec = resolve(doc, header.getValue());
                    if (spec.has("schema")) {
                        defs.set(defName(id, response.getKey(), header.getKey()), spec.get("schema"));
                    }
                });
            });
            operations.add(new Operation(id, methodAndTemplate[0], methodAndTemplate[1], templatePattern(methodAndTemplate[1]), responses));
        });
        String text = doc.toString();
        factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012, builder -> builder
                .metaSchema(OpenApi31.getInstance()).defaultMetaSchemaIri(OpenApi31.getInstance().getIri())
                .schemaLoaders(loaders -> loaders.schemas(Map.of(IRI, text))));
        this.document = doc;
    }

    /**
     * The contract of the application at {@code origin} (scheme://host:port), read once from its /q/openapi; empty for
     * an origin that publishes no document (the management port, where PortSplitTest asks /api/ paths on purpose).
     */
    public static Optional<OpenApiContract> of(String origin) {
        return BY_ORIGIN.computeIfAbsent(origin, o -> {
            // A new record of what the suite saw, once per JVM (a test profile's restart brings a new class loader,
            // so the mark is a system property, which all of them share).
            if (System.getProperty("shop.contract.started") == null) {
                System.setProperty("shop.contract.started", "true");
                write(seenFile(), "", false);
            }
            JsonNode published = fetch(o + "/q/openapi?format=json");
            if (published == null) {
                return Optional.empty();
            }
            write(documentFile(), published.toPrettyString(), false);
            return Optional.of(new OpenApiContract(published));
        });
    }

    /**
     * Checks one response; returns what differs from the document (empty when it matches) and records the
     * (operation, status) seen. A request no operation matches returns nothing and is not recorded.
     */
    public List<String> check(String method, String rawPath, int status, String contentType, byte[] body,
            Function<String, String> header) {
        Operation op = operations.stream()
                .filter(o -> o.method().equals(method.toUpperCase(Locale.ROOT)) && o.pattern().matcher(rawPath).matches())
                .findFirst().orElse(null);
        if (op == null) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        String where = op.id() + " (" + op.method() + " " + op.template() + ") answered " + status;
        JsonNode documented = op.responses().get(Integer.toString(status));
        if (documented == null) {
            problems.add(where + ", a status the document does not list for it (documented: " + fieldNames(op.responses()) + ")");
            return problems;
        }
        write(seenFile(), op.id() + "\t" + status + "\n", true);
        JsonNode response = resolve(document, documented);
        JsonNode content = response.path("content");
        boolean hasBody = body != null && body.length > 0;
        if (content.isMissingNode() || content.isEmpty()) {
            if (hasBody) {
                problems.add(where + " with a body (" + contentType + "), but the document describes no content for it");
            }
        } else {
            String mediaType = contentType == null ? null : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            List<String> documentedTypes = fieldNames(content);
            int index = mediaType == null ? -1 : documentedTypes.indexOf(mediaType);
            if (index < 0) {
                problems.add(where + " with Content-Type " + contentType + "; the document lists " + documentedTypes);
            } else if (!hasBody) {
                problems.add(where + " with an empty body; the document describes " + mediaType);
            } else if (content.get(mediaType).has("schema")) {
                validate(defName(op.id(), Integer.toString(status), index), parse(body, where), where + " " + mediaType + " body", problems);
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> h = response.path("headers").fields(); h.hasNext();) {
            Map.Entry<String, JsonNode> entry = h.next();
            JsonNode spec = resolve(document, entry.getValue());
            String value = header.apply(entry.getKey());
            if (value == null) {
                if (spec.path("required").asBoolean(false)) {
                    problems.add(where + " without the required header " + entry.getKey());
                }
            } else if (spec.has("schema")) {
                validate(defName(op.id(), Integer.toString(status), entry.getKey()), headerValue(value),
                        where + " header " + entry.getKey() + ": " + value, problems);
            }
        }
        return problems;
    }

    private void validate(String def, JsonNode value, String what, List<String> problems) {
        JsonSchema schema = schemas.computeIfAbsent(def, d -> factory.getSchema(SchemaLocation.of(IRI + "#/$defs/" + d), config));
        for (ValidationMessage message : schema.validate(value)) {
            problems.add(what + ": " + message.getMessage());
        }
    }

    /** The document the @QuarkusTest suite read (shop.contract.document overrides the path). */
    public static final Path SUITE_DOCUMENT = Path.of("target", "openapi-contract", "openapi.json");
    /** What the @QuarkusTest suite saw, one line per checked response: operationId TAB status (shop.contract.seen). */
    public static final Path SUITE_SEEN = Path.of("target", "openapi-contract", "seen.tsv");

    static Path documentFile() {
        return Path.of(System.getProperty("shop.contract.document", SUITE_DOCUMENT.toString()));
    }

    static Path seenFile() {
        return Path.of(System.getProperty("shop.contract.seen", SUITE_SEEN.toString()));
    }

    /** The operations of a document by route ("GET /api/products/{id}"), in document order. */
    public static Map<String, JsonNode> operations(JsonNode document) {
        Map<String, JsonNode> operations = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> p = document.path("paths").fields(); p.hasNext();) {
            Map.Entry<String, JsonNode> path = p.next();
            path.getValue().fields().forEachRemaining(m -> {
                if (METHODS.contains(m.getKey())) {
                    operations.put(m.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(), m.getValue());
                }
            });
        }
        return operations;
    }

    /** Every object schema that lists its properties gets additionalProperties: false unless it says otherwise. */
    private static void closeObjectSchemas(JsonNode schemas) {
        for (JsonNode schema : schemas) {
            if (schema instanceof ObjectNode o && o.has("properties") && !o.has("additionalProperties")) {
                o.put("additionalProperties", false);
            }
        }
    }

    private static JsonNode resolve(JsonNode doc, JsonNode node) {
        JsonNode current = node;
        for (int hops = 0; current.has("$ref") && hops < 10; hops++) {
            String ref = current.get("$ref").asText();
            if (!ref.startsWith("#/")) {
                throw new AssertionError("The contract test follows only local references, not " + ref);
            }
            current = doc.at(ref.substring(1));
            if (current.isMissingNode()) {
                throw new AssertionError("The OpenAPI document refers to " + ref + ", which it does not hold");
            }
        }
        return current;
    }

    private static Pattern templatePattern(String template) {
        StringBuilder regex = new StringBuilder();
        for (String part : template.split("(?=\\{)|(?<=\\})")) {
            regex.append(part.startsWith("{") ? "[^/]+" : Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }

    private static String defName(String operationId, String status, Object mediaIndexOrHeader) {
        return (operationId + "-" + status + "-" + mediaIndexOrHeader).replaceAll("[^A-Za-z0-9_-]", "_");
    }

    private static JsonNode headerValue(String value) {
        try {
            long number = Long.parseLong(value.trim());
            return number == (int) number ? IntNode.valueOf((int) number) : LongNode.valueOf(number);
        } catch (NumberFormatException e) {
            return TextNode.valueOf(value);
        }
    }

    private static JsonNode parse(byte[] body, String where) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new AssertionError(where + " with a body that is not JSON: " + new String(body, StandardCharsets.UTF_8), e);
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** The document at url; null when there is none (404). */
    private static JsonNode fetch(String url) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .header("Accept", "application/json").timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 404) {
                return null;
            }
            if (response.statusCode() != 200) {
                throw new AssertionError("GET " + url + " answered " + response.statusCode());
            }
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static synchronized void write(Path file, String text, boolean append) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            if (append) {
                Files.writeString(file, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } else {
                Files.writeString(file, text);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
