package dev.shopwatch.order;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same order contract, racing orders included, against the packaged jar. */
@QuarkusIntegrationTest
class OrderResourceIT extends OrderResourceTest {
}
