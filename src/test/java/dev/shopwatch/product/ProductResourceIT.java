package dev.shopwatch.product;

import io.quarkus.test.junit.QuarkusIntegrationTest;

/** The same product contract, against the packaged jar. */
@QuarkusIntegrationTest
class ProductResourceIT extends ProductResourceTest {
}
