package dev.shopwatch.loadtest;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.constantConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.feed;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.responseTimeInMillis;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.stopLoadGeneratorIf;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import dev.shopwatch.loadtest.LoadProfile.Phase;
import dev.shopwatch.loadtest.LoadProfile.Plan;
import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.CheckBuilder;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ClosedInjectionStep;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Realistic traffic for the shop service, shaped by -Dprofile=smoke|load|stress|spike|soak (see LoadProfile).
 * Reads top to bottom: protocol, one chain per user action, one scenario per persona, then setUp with the gates.
 */
public class ShopSimulation extends Simulation {

    // ---- Run settings -------------------------------------------------------------------------------------------
    private final Settings settings = Settings.fromSystemProperties();
    private final LoadProfile profile = settings.profile();
    private final Plan plan = profile.plan(settings);
    private final Catalog catalog = new Catalog();
    private final SloLedger ledger = new SloLedger(plan.phases());
    private final CpuClock cpu = CpuClock.fromSystemProperties();

    /** Traffic mix as shares of requests, and how many requests one session of each persona sends. */
    private static final double BROWSER_SHARE = 0.70;
    private static final double BUYER_SHARE = 0.25;
    private static final double ADMIN_SHARE = 0.05;
    private static final double BROWSER_REQUESTS = 3;   // list, search, view
    private static final double BUYER_REQUESTS = 2.7;   // view, order, then the order itself when it was placed
    private static final double ADMIN_REQUESTS = 2.2;   // create, update, and a restock in one session of five
    private static final int SEED_USERS = 4;

    // ---- Protocol -----------------------------------------------------------------------------------------------
    // Connections are pooled across virtual users, as an ingress or a gateway pools them in front of the service:
    // we measure the service, not TCP handshakes on loopback.
    private final HttpProtocolBuilder httpProtocol = http
            .baseUrl(settings.baseUrl())
            .acceptHeader("application/json")
            .contentTypeHeader("application/json")
            .userAgentHeader("shop-loadtest (Gatling)")
            .shareConnections();

    // ---- One chain per user action ------------------------------------------------------------------------------
    // Writes carry the API key of their role (README "Authentication"): catalog writes admin, orders client.
    private HttpRequestActionBuilder asAdmin(HttpRequestActionBuilder request) {
        return request.header("Authorization", "Bearer " + settings.adminKey());
    }

    private HttpRequestActionBuilder asClient(HttpRequestActionBuilder request) {
        return request.header("Authorization", "Bearer " + settings.clientKey());
    }

    private static final String PRODUCT_BODY = """
            {"sku":#{sku.jsonStringify()},"name":#{name.jsonStringify()},"description":"created by the load test",\
            "priceCents":#{priceCents},"stock":#{stock}}""";

    /** Seeding: one product of the run's own catalog, remembered for the personas. */
    private final ChainBuilder seedProduct = measured(
            asAdmin(http("seed product").post("/api/products").body(StringBody(PRODUCT_BODY))),
            List.of(201), jsonPath("$.id").ofLong().saveAs("seededId"))
            .exec(session -> {
                if (session.contains("seededId")) {
                    catalog.add(new Catalog.Product(session.getLong("seededId"), session.getString("sku"),
                            session.getString("name"), session.getLong("priceCents")), session.getBoolean("hot"));
                }
                return session.remove("seededId");
            });

    private final ChainBuilder listProducts = measured(
            http("list products").get("/api/products").queryParam("page", "#{page}").queryParam("size", "20"),
            List.of(200), jsonPath("$.items").exists());

    /** Searches a word and keeps one of the hits (if any) as the product to look at next. */
    private final ChainBuilder searchProducts = measured(
            http("search products").get("/api/products").queryParam("q", "#{searchTerm}").queryParam("size", "20"),
            List.of(200), jsonPath("$.items[*].id").findRandom().optional().saveAs("productId"));

    private final ChainBuilder viewProduct = measured(
            http("view product").get("/api/products/#{productId}"),
            List.of(200), jsonPath("$.id").exists());

    /** 201 placed, or 409 insufficient stock (as problem+json): both are correct answers under contention. */
    private final ChainBuilder placeOrder = exec(session -> session.remove("orderId"))
            .exec(measured(
                    asClient(http("place order").post("/api/orders"))
                            .body(StringBody("{\"lines\":[{\"productId\":#{productId},\"quantity\":#{quantity}}]}"))
                            .checkIf((response, session) -> response.status().code() == 409)
                            .then(jsonPath("$.status").ofInt().is(409), jsonPath("$.title").exists()),
                    List.of(201, 409),
                    status().saveAs("orderStatus"), jsonPath("$.id").optional().saveAs("orderId")))
            .exec(session -> {
                if (session.contains("orderStatus")) {
                    ledger.count(session.getInt("orderStatus") == 201 ? "orders.placed" : "orders.refused.insufficient_stock");
                }
                return session.remove("orderStatus");
            });

    private final ChainBuilder viewOrder = doIf(session -> session.contains("orderId")).then(measured(
            http("view order").get("/api/orders/#{orderId}"),
            List.of(200), jsonPath("$.totalCents").exists()));

    private final ChainBuilder createProduct = exec(session -> session.remove("newId"))
            .feed(catalog.newProductFeeder())
            .exec(measured(
                    asAdmin(http("create product").post("/api/products")).body(StringBody(PRODUCT_BODY)),
                    List.of(201), jsonPath("$.id").ofLong().saveAs("newId")));

    /** The admin reprices what they just created (PUT replaces the whole product). */
    private final ChainBuilder updateProduct = doIf(session -> session.contains("newId")).then(
            exec(session -> session.set("newPriceCents", session.getLong("priceCents") + 50))
                    .exec(measured(
                            asAdmin(http("update product").put("/api/products/#{newId}")).body(StringBody("""
                                    {"sku":#{sku.jsonStringify()},"name":#{name.jsonStringify()},\
                                    "description":"repriced by the load test","priceCents":#{newPriceCents},"stock":#{stock}}""")),
                            List.of(200), jsonPath("$.priceCents").exists())));

    /** Puts a hot product's stock back, so buyers keep competing for it for the whole run. */
    private final ChainBuilder restockHotProduct = feed(catalog.restockFeeder())
            .exec(measured(
                    asAdmin(http("restock hot product").put("/api/products/#{restockId}")).body(StringBody("""
                            {"sku":#{restockSku.jsonStringify()},"name":#{restockName.jsonStringify()},\
                            "description":"restocked by the load test","priceCents":#{restockPrice},"stock":#{restockStock}}""")),
                    List.of(200)));

    // ---- One scenario per persona -------------------------------------------------------------------------------
    private final ScenarioBuilder seeding = scenario("Seeding")
            .exec(repeat((Catalog.HOT_PRODUCTS + Catalog.REGULAR_PRODUCTS) / SEED_USERS)
                    .on(feed(catalog.seedFeeder()).exec(seedProduct)));

    private final ScenarioBuilder browsers = scenario("Browsers")
            .exec(startClock())
            .feed(catalog.browseFeeder())
            .exec(listProducts).pause(Duration.ofMillis(200), Duration.ofMillis(800))
            .exec(searchProducts).pause(Duration.ofMillis(200), Duration.ofMillis(800))
            .exec(viewProduct);

    private final ScenarioBuilder buyers = scenario("Buyers")
            .exec(startClock())
            .feed(catalog.orderFeeder())
            .exec(viewProduct).pause(Duration.ofMillis(300), Duration.ofMillis(1000))
            .exec(placeOrder).pause(Duration.ofMillis(100), Duration.ofMillis(300))
            .exec(viewOrder);

    private final ScenarioBuilder catalogAdmins = scenario("Catalog admins")
            .exec(startClock())
            .exec(createProduct).pause(Duration.ofMillis(500), Duration.ofMillis(1500))
            .exec(updateProduct)
            .doIf(session -> ThreadLocalRandom.current().nextDouble() < Catalog.RESTOCK_SHARE).then(
                    pause(Duration.ofMillis(200), Duration.ofMillis(600)).exec(restockHotProduct));

    /**
     * Not a persona: one user that books CPU use per phase every second and, in stress, stops the run once a step
     * has broken the SLO (the steps above it cannot hold either). It sends no request.
     */
    private final ScenarioBuilder monitor = scenario("Monitor")
            .exec(startClock())
            .during(plan.total()).on(pause(Duration.ofSeconds(1))
                    .exec(session -> {
                        ledger.sampleCpu(cpu);
                        return session;
                    })
                    .doIf(session -> profile == LoadProfile.STRESS).then(
                            stopLoadGeneratorIf("a stress step broke the SLO: capacity found",
                                    session -> ledger.sloBroken(profile.slo, 2_500))));

    // ---- Injection and gates ------------------------------------------------------------------------------------
    {
        List<PopulationBuilder> personas = new ArrayList<>();
        if (plan.closedModel()) {
            // Smoke: a handful of users, split by the mix but at least one per persona.
            int users = plan.concurrentUsers();
            int buyerUsers = Math.max(1, (int) Math.round(users * BUYER_SHARE));
            int adminUsers = 1;
            int browserUsers = Math.max(1, users - buyerUsers - adminUsers);
            Duration d = plan.total();
            personas.add(browsers.injectClosed(closed(browserUsers, d)));
            personas.add(buyers.injectClosed(closed(buyerUsers, d)));
            personas.add(catalogAdmins.injectClosed(closed(adminUsers, d)));
        } else {
            personas.add(browsers.injectOpen(open(BROWSER_SHARE / BROWSER_REQUESTS)));
            personas.add(buyers.injectOpen(open(BUYER_SHARE / BUYER_REQUESTS)));
            personas.add(catalogAdmins.injectOpen(open(ADMIN_SHARE / ADMIN_REQUESTS)));
        }
        personas.add(monitor.injectOpen(atOnceUsers(1)));
        setUp(seeding.injectOpen(atOnceUsers(SEED_USERS)).andThen(personas))
                .protocols(httpProtocol)
                .assertions(gates(profile))
                // Bounded whatever happens: the plan plus a minute for seeding and stragglers.
                .maxDuration(plan.total().plusMinutes(1));
    }

    /**
     * The SLO gates of a profile. Each is a Gatling assertion on the whole run: a miss fails the run, hence mvn's
     * exit code. Stress would miss them by design (it pushes until the SLO breaks), so it only asserts that the
     * service answered; its verdict is the capacity it prints. GatesTest checks this list against the README's
     * table for every profile; `make test-load` proves on a real run that each gate fails the build.
     */
    static List<Assertion> gates(LoadProfile profile) {
        if (profile == LoadProfile.STRESS) {
            return List.of(global().successfulRequests().percent().gte(50.0));
        }
        return List.of(
                global().responseTime().percentile(95.0).lte(profile.slo.p95Ms()),
                global().responseTime().percentile(99.0).lte(profile.slo.p99Ms()),
                global().failedRequests().percent().lte(profile.slo.failedPct()));
    }

    @Override
    public void before() {
        System.out.printf(Locale.ROOT, "shop load test: profile=%s baseUrl=%s duration=%ss%s%n",
                profile.name().toLowerCase(Locale.ROOT), settings.baseUrl(), plan.total().toSeconds(),
                plan.closedModel() ? " users=" + plan.concurrentUsers() : "");
        for (Phase phase : plan.phases()) {
            if (!plan.closedModel()) {
                System.out.printf(Locale.ROOT, "  %-28s %s rps for %ss%n", phase.name(),
                        phase.isRamp() ? LoadProfile.fmt(phase.fromRps()) + "->" + LoadProfile.fmt(phase.toRps())
                                : LoadProfile.fmt(phase.toRps()), phase.duration().toSeconds());
            }
        }
    }

    @Override
    public void after() {
        System.out.println("seeded products: " + catalog.seeded() + " of " + (Catalog.HOT_PRODUCTS + Catalog.REGULAR_PRODUCTS));
        ledger.report(profile, settings, System.out);
    }

    // ---- Helpers ------------------------------------------------------------------------------------------------

    /**
     * Sends the request, checks its status against the expected ones, and books it in the ledger (response time,
     * OK/KO as Gatling sees it, phase in which it started). The response-time capture is the first check so it is
     * recorded even when a later check fails.
     */
    private ChainBuilder measured(HttpRequestActionBuilder request, List<Integer> expected, CheckBuilder... checks) {
        List<CheckBuilder> all = new ArrayList<>();
        all.add(responseTimeInMillis().saveAs("rt"));
        all.add(status().in(expected));
        all.addAll(List.of(checks));
        return exec(session -> session.markAsSucceeded().remove("rt"))
                .exec(request.check(all))
                .exec(session -> {
                    ledger.record(session.contains("rt") ? session.getInt("rt") : null, !session.isFailed());
                    return session;
                });
    }

    private ChainBuilder startClock() {
        return exec(session -> {
            ledger.markStart();
            return session;
        });
    }

    private static ClosedInjectionStep closed(int users, Duration duration) {
        return constantConcurrentUsers(users).during(duration);
    }

    /** The plan's phases as arrival rates of one persona: requests/s x share / requests per session. */
    private OpenInjectionStep[] open(double usersPerRequest) {
        List<OpenInjectionStep> steps = new ArrayList<>();
        for (Phase phase : plan.phases()) {
            double from = phase.fromRps() * usersPerRequest;
            double to = phase.toRps() * usersPerRequest;
            if (phase.isRamp()) {
                steps.add(rampUsersPerSec(from).to(to).during(phase.duration()).randomized());
            } else if (to > 0) {
                steps.add(constantUsersPerSec(to).during(phase.duration()).randomized());
            } else {
                steps.add(nothingFor(phase.duration()));
            }
        }
        return steps.toArray(OpenInjectionStep[]::new);
    }
}
