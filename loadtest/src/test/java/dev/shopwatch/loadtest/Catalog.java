package dev.shopwatch.loadtest;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The products this run created (the seeding scenario fills it) and the generated feeders the personas draw
 * from. Nothing is read from files: SKUs carry a per-run prefix, so runs never collide on the same database.
 */
final class Catalog {

    /** Ordinary products: so much stock that orders for them never run out during a run. */
    static final int REGULAR_PRODUCTS = 97;
    static final int REGULAR_STOCK = 1_000_000;
    /** Hot products: little stock, many buyers. 409 insufficient stock is their expected, checked outcome. */
    static final int HOT_PRODUCTS = 3;
    static final int HOT_STOCK = 10;
    /** Share of buyers that go for a hot product. */
    static final double HOT_SHARE = 0.4;
    /**
     * Share of admin sessions that restock a hot product (PUT stock back to HOT_STOCK). At any rate, supply is
     * then about 60 % of the hot demand: hot products keep selling out, and a good part of their orders get 409.
     */
    static final double RESTOCK_SHARE = 0.2;

    private static final String[] ADJECTIVES = {"Red", "Compact", "Quiet", "Solid", "Vintage", "Smart", "Light", "Steel"};
    private static final String[] NOUNS = {"Kettle", "Lamp", "Chair", "Backpack", "Headphones", "Mug", "Desk", "Jacket",
            "Bottle", "Notebook"};

    /** A product the run knows: enough to PUT it back whole. */
    record Product(long id, String sku, String name, long priceCents) {
    }

    private final String runId = Long.toString(System.currentTimeMillis(), 36).toUpperCase(Locale.ROOT);
    private final AtomicLong skuCounter = new AtomicLong();
    private final List<Product> regular = new CopyOnWriteArrayList<>();
    private final List<Product> hot = new CopyOnWriteArrayList<>();

    void add(Product product, boolean isHot) {
        (isHot ? hot : regular).add(product);
    }

    int seeded() {
        return regular.size() + hot.size();
    }

    /** Seed rows: HOT_PRODUCTS hot ones first, then the regular ones. */
    Iterator<Map<String, Object>> seedFeeder() {
        return Stream.iterate(0, i -> i + 1).limit(HOT_PRODUCTS + REGULAR_PRODUCTS).map(i -> {
            boolean isHot = i < HOT_PRODUCTS;
            Map<String, Object> row = newProductRow(isHot ? "HOT" : "SEED");
            row.put("hot", isHot);
            row.put("stock", isHot ? HOT_STOCK : REGULAR_STOCK);
            return row;
        }).iterator();
    }

    /** Endless rows for the catalog admins' new products. */
    Iterator<Map<String, Object>> newProductFeeder() {
        return Stream.generate(() -> {
            Map<String, Object> row = newProductRow("ADM");
            row.put("stock", ThreadLocalRandom.current().nextInt(10, 500));
            return row;
        }).iterator();
    }

    /** Endless rows for browsers: a product to look at and a word to search for. */
    Iterator<Map<String, Object>> browseFeeder() {
        return Stream.generate(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            Map<String, Object> row = new HashMap<>();
            row.put("productId", pick(regular).id());
            row.put("otherProductId", pick(random.nextDouble() < 0.2 ? hot : regular).id());
            row.put("searchTerm", NOUNS[random.nextInt(NOUNS.length)].toLowerCase(Locale.ROOT));
            row.put("page", random.nextInt(3));
            return row;
        }).iterator();
    }

    /** Endless rows for buyers: which product and how many; a share of them fight over the hot products. */
    Iterator<Map<String, Object>> orderFeeder() {
        return Stream.generate(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            boolean isHot = random.nextDouble() < HOT_SHARE;
            Map<String, Object> row = new HashMap<>();
            row.put("productId", pick(isHot ? hot : regular).id());
            row.put("quantity", isHot ? random.nextInt(1, 3) : random.nextInt(1, 4));
            return row;
        }).iterator();
    }

    /** Endless rows for the admins' restock of a hot product: the full product, stock back to HOT_STOCK. */
    Iterator<Map<String, Object>> restockFeeder() {
        return Stream.generate(() -> {
            Product p = pick(hot);
            Map<String, Object> row = new HashMap<>();
            row.put("restockId", p.id());
            row.put("restockSku", p.sku());
            row.put("restockName", p.name());
            row.put("restockPrice", p.priceCents());
            row.put("restockStock", HOT_STOCK);
            return row;
        }).iterator();
    }

    private Map<String, Object> newProductRow(String kind) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long n = skuCounter.incrementAndGet();
        Map<String, Object> row = new HashMap<>();
        row.put("sku", "LT-" + runId + "-" + kind + "-" + n);
        row.put("name", ADJECTIVES[random.nextInt(ADJECTIVES.length)] + " " + NOUNS[random.nextInt(NOUNS.length)] + " " + n);
        row.put("priceCents", (long) random.nextInt(199, 49_999));
        return row;
    }

    /**
     * A random product of the list. When seeding failed (service down, chaos on) there is none: id 1 keeps the
     * personas sending requests, whose failures the gates then report.
     */
    private static Product pick(List<Product> products) {
        if (products.isEmpty()) {
            return new Product(1, "LT-MISSING", "missing", 100);
        }
        return products.get(ThreadLocalRandom.current().nextInt(products.size()));
    }
}
