-- Fixture: the expansion every case starts from.
CREATE TABLE item (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku   VARCHAR(64) NOT NULL,
    note  VARCHAR(200)
);
