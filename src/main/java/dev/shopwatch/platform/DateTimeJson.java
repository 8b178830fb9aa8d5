package dev.shopwatch.platform;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Writes every {@link OffsetDateTime} of the API (products' and orders' {@code createdAt}/{@code updatedAt}) with
 * digit arithmetic into a char buffer instead of jackson-datatype-jsr310's serializer, which formats through
 * {@link DateTimeFormatter#ISO_OFFSET_DATE_TIME}: that formatting was most of Jackson's share of the service's CPU
 * per request (`InstantSerializerBase.serialize` 192 of `ObjectWriter.writeValue`'s 360 samples in the by-id read's
 * profile, loadtest/README.md "Benchmark"; a page of 20 products formats 40 of them). The text is exactly what that
 * formatter writes (DateTimeJsonTest compares the two): date, {@code T}, hours to seconds, a fraction without
 * trailing zeros only when there is one, then {@code Z} or the offset. Years outside 0000-9999 take the formatter.
 */
@Singleton
public class DateTimeJson implements ObjectMapperCustomizer {

    /** "+9999-12-31T23:59:59.999999999+18:00:00" is 38 characters. */
    static final int MAX_LENGTH = 40;

    /** Last of the customizers: Jackson asks the module registered last first, so this one must follow the JavaTimeModule. */
    @Override
    public int priority() {
        return MINIMUM_PRIORITY;
    }

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(new SimpleModule("shop-offset-date-time").addSerializer(OffsetDateTime.class, new Serializer()));
    }

    static final class Serializer extends StdSerializer<OffsetDateTime> {
        Serializer() {
            super(OffsetDateTime.class);
        }

        @Override
        public void serialize(OffsetDateTime value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            char[] buf = new char[MAX_LENGTH];
            int n = format(value, buf);
            if (n < 0) {
                gen.writeString(DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(value));
            } else {
                gen.writeString(buf, 0, n);
            }
        }
    }

    /** Writes {@code t} as ISO_OFFSET_DATE_TIME would into {@code buf}; the length, or -1 for a year it leaves to the formatter. */
    static int format(OffsetDateTime t, char[] buf) {
        int year = t.getYear();
        if (year < 0 || year > 9999) {
            return -1;
        }
        int i = digits(buf, 0, year, 4);
        buf[i++] = '-';
        i = digits(buf, i, t.getMonthValue(), 2);
        buf[i++] = '-';
        i = digits(buf, i, t.getDayOfMonth(), 2);
        buf[i++] = 'T';
        i = digits(buf, i, t.getHour(), 2);
        buf[i++] = ':';
        i = digits(buf, i, t.getMinute(), 2);
        buf[i++] = ':';
        i = digits(buf, i, t.getSecond(), 2);
        int nano = t.getNano();
        if (nano != 0) {
            buf[i++] = '.';
            int width = 9;
            while (nano % 10 == 0) {
                nano /= 10;
                width--;
            }
            i = digits(buf, i, nano, width);
        }
        int offset = t.getOffset().getTotalSeconds();
        if (offset == 0) {
            buf[i++] = 'Z';
            return i;
        }
        buf[i++] = offset < 0 ? '-' : '+';
        int abs = Math.abs(offset);
        i = digits(buf, i, abs / 3600, 2);
        buf[i++] = ':';
        i = digits(buf, i, abs / 60 % 60, 2);
        if (abs % 60 != 0) {
            buf[i++] = ':';
            i = digits(buf, i, abs % 60, 2);
        }
        return i;
    }

    /** {@code value} in {@code width} decimal digits, zero-padded, at {@code at}; the index after them. */
    private static int digits(char[] buf, int at, int value, int width) {
        for (int p = at + width - 1; p >= at; p--) {
            buf[p] = (char) ('0' + value % 10);
            value /= 10;
        }
        return at + width;
    }
}
