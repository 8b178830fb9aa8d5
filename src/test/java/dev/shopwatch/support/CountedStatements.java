package dev.shopwatch.support;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A data source that counts the statements its connections prepare or create: how many round trips to PostgreSQL a
 * repository operation costs, for the tests that hold a request's statement count (loadtest/README.md, "PostgreSQL
 * per request").
 */
public final class CountedStatements {

    private final AtomicInteger count = new AtomicInteger();
    private final DataSource dataSource;

    public CountedStatements(DataSource target) {
        this.dataSource = (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    Object result = invoke(method, target, args);
                    return result instanceof Connection connection ? counting(connection) : result;
                });
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The statements counted since the last call, which starts the count again. */
    public int take() {
        return count.getAndSet(0);
    }

    private Connection counting(Connection connection) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().startsWith("prepare") || method.getName().equals("createStatement")) {
                        count.incrementAndGet();
                    }
                    return invoke(method, connection, args);
                });
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
