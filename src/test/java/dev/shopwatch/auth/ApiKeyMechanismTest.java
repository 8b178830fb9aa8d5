package dev.shopwatch.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shopwatch.support.TestKeys;
import org.junit.jupiter.api.Test;

/** Which Authorization headers carry a key (plain JUnit: PIT's). */
class ApiKeyMechanismTest {

    @Test
    void bearerToken() {
        String key = TestKeys.generate();
        assertThat(ApiKeyMechanism.bearerToken("Bearer " + key)).isEqualTo(key);
        assertThat(ApiKeyMechanism.bearerToken("bEARER  " + key + " ")).isEqualTo(key);
        assertThat(ApiKeyMechanism.bearerToken("Basic " + key)).isNull();
        assertThat(ApiKeyMechanism.bearerToken("Bearer")).isNull();
        assertThat(ApiKeyMechanism.bearerToken("Bearer ")).isNull();
        assertThat(ApiKeyMechanism.bearerToken("Bearer" + key)).isNull();
        assertThat(ApiKeyMechanism.bearerToken("Bearer abc")).isNull();
        assertThat(ApiKeyMechanism.bearerToken(key)).isNull();
    }

    @Test
    void failureCarriesItsReason() {
        assertThat((Object) ApiKeyMechanism.failure(AuthFailures.Reason.MALFORMED).getAttribute(ApiKeyMechanism.REASON))
                .isEqualTo(AuthFailures.Reason.MALFORMED);
    }
}
