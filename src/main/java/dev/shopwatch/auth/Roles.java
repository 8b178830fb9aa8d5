package dev.shopwatch.auth;

/** The roles of Contract A: {@code admin} writes the catalog, {@code client} places orders. Reads need none. */
public interface Roles {

    String ADMIN = "admin";
    String CLIENT = "client";
}
