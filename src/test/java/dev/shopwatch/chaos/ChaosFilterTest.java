package dev.shopwatch.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.jboss.resteasy.reactive.server.spi.ResteasyReactiveContainerRequestContext;
import org.junit.jupiter.api.Test;

/**
 * Plain JUnit (PIT runs it; ChaosTest proves the same over HTTP): what the filter does to a request. With chaos off it
 * touches nothing, not even the request's path, and never suspends the request (a suspend and resume per request is
 * what the Uni-returning filter cost every request, loadtest/README.md "Benchmark").
 */
class ChaosFilterTest {

    /** A request context that records the calls the filter makes on it. */
    static final class Recorder {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile Response aborted;
        final ResteasyReactiveContainerRequestContext request;

        Recorder(String path) {
            UriInfo uri = (UriInfo) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {UriInfo.class},
                    (p, m, a) -> switch (m.getName()) {
                        case "getPath" -> path;
                        case "getRequestUri" -> URI.create("http://localhost" + path);
                        default -> null;
                    });
            request = (ResteasyReactiveContainerRequestContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {ResteasyReactiveContainerRequestContext.class}, (p, m, a) -> {
                        calls.add(m.getName());
                        return switch (m.getName()) {
                            case "getUriInfo" -> uri;
                            case "getMethod" -> "GET";
                            case "abortWith" -> {
                                aborted = (Response) a[0];
                                yield null;
                            }
                            default -> null;
                        };
                    });
        }
    }

    private final Chaos chaos = new Chaos();
    private final ChaosFilter filter = new ChaosFilter(chaos);

    @Test
    void offTouchesNothingAndNeverSuspends() {
        Recorder r = new Recorder("/api/products/1");
        filter.inject(r.request);
        assertThat(r.calls).isEmpty();
    }

    @Test
    void errorsWithoutLatencyAbortAtOnceWithoutSuspending() {
        chaos.update(new ChaosSettings(null, null, 1.0));
        Recorder r = new Recorder("/api/products/1");
        filter.inject(r.request);
        assertThat(r.calls).contains("abortWith").doesNotContain("suspend", "resume");
        assertThat(r.aborted.getStatus()).isEqualTo(500);
        Recorder management = new Recorder("/q/health");
        filter.inject(management.request);
        assertThat(management.calls).as("only /api/ is faulted").containsExactly("getUriInfo");
    }

    @Test
    void latencySuspendsThenResumesAbortedOrNot() {
        chaos.update(new ChaosSettings(50L, 1.0, 0.0));
        Recorder delayed = new Recorder("/api/products/1");
        filter.inject(delayed.request);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> delayed.calls.contains("resume"));
        assertThat(delayed.calls).containsExactly("getUriInfo", "suspend", "resume");

        chaos.update(new ChaosSettings(null, null, 1.0));
        Recorder failed = new Recorder("/api/products/1");
        filter.inject(failed.request);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> failed.calls.contains("resume"));
        assertThat(failed.calls).startsWith("getUriInfo", "suspend").contains("abortWith").endsWith("resume");
        assertThat(failed.aborted.getStatus()).isEqualTo(500);
    }
}
