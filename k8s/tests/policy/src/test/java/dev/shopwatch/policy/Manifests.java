package dev.shopwatch.policy;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Kubernetes objects as CEL sees them: maps, lists, strings, booleans, 64-bit integers and doubles. */
final class Manifests {

    /** The repository root (set by the pom; the working directory when run from the root). */
    static final Path ROOT = Path.of(System.getProperty("repo.root", ".")).toAbsolutePath().normalize();

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Manifests() {
    }

    /** Every folder that kubectl kustomize builds: the overlays and the test combinations under k8s/tests. */
    static List<Path> builds() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String parent : List.of("k8s/overlays", "k8s/tests")) {
            try (Stream<Path> dirs = Files.list(ROOT.resolve(parent))) {
                dirs.filter(d -> Files.isRegularFile(d.resolve("kustomization.yaml"))).sorted().forEach(out::add);
            }
        }
        return out;
    }

    /** The objects kubectl kustomize renders from a folder. */
    static List<Map<String, Object>> build(Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("kubectl kustomize " + ROOT.relativize(dir) + " failed: " + err.strip());
        }
        return parse(new String(out, StandardCharsets.UTF_8));
    }

    /** The documents of a multi-document YAML text, each converted for CEL. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> parse(String yaml) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        try (MappingIterator<Object> it = YAML.readerFor(Object.class).readValues(yaml)) {
            while (it.hasNext()) {
                Object doc = it.next();
                if (doc instanceof Map<?, ?> m && !m.isEmpty()) {
                    docs.add((Map<String, Object>) forCel(doc));
                }
            }
        }
        return docs;
    }

    /** CEL's int is 64-bit: Jackson's Integer becomes Long, Float becomes Double; maps keep their order. */
    private static Object forCel(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, val) -> {
                if (val != null) {
                    out.put(String.valueOf(k), forCel(val));
                }
            });
            return out;
        }
        if (v instanceof List<?> l) {
            return l.stream().filter(x -> x != null).map(Manifests::forCel).toList();
        }
        if (v instanceof Integer || v instanceof Short || v instanceof java.math.BigInteger) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float) {
            return ((Float) v).doubleValue();
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String... path) {
        Object cur = o;
        for (String key : path) {
            cur = cur instanceof Map<?, ?> m ? m.get(key) : null;
        }
        return cur instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String... path) {
        Object cur = o;
        for (int i = 0; i < path.length - 1; i++) {
            cur = map(cur, path[i]);
        }
        Object v = map(cur).get(path[path.length - 1]);
        return v instanceof List<?> l ? (List<Object>) l : List.of();
    }

    static String str(Object o, String... path) {
        Object cur = o;
        for (int i = 0; i < path.length - 1; i++) {
            cur = map(cur, path[i]);
        }
        Object v = map(cur).get(path[path.length - 1]);
        return v == null ? "" : String.valueOf(v);
    }

    static String name(Map<String, Object> obj) {
        String ns = str(obj, "metadata", "namespace");
        return str(obj, "kind") + " " + (ns.isEmpty() ? "" : ns + "/") + str(obj, "metadata", "name");
    }
}
