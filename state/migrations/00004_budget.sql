-- +goose Up
-- The Neon rate budget every replica spends from, one row per API key
-- (named by a hash of the key, never the key). tat is the generic cell
-- rate algorithm's theoretical arrival time: the key's bucket is full when
-- it is in the past, and each call taken moves it on by one interval.
--
-- Both tables are UNLOGGED: a slot is taken on every Neon call, and a
-- logged write would wait for the WAL to reach disk each time (about ten
-- times the cost). What a crash loses is only throttling state: the row
-- comes back full, as after a quiet minute.
CREATE UNLOGGED TABLE dashboard_state.neon_budget (
    key_hash text PRIMARY KEY,
    tat      timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The calls taken from a key's budget, per second, so that the footer can
-- show what every replica together spent in the last minute. Rows older
-- than two minutes are dropped as the spend is read.
CREATE UNLOGGED TABLE dashboard_state.neon_budget_spend (
    key_hash text   NOT NULL,
    second   bigint NOT NULL,
    calls    int    NOT NULL,
    PRIMARY KEY (key_hash, second)
);

-- +goose Down
DROP TABLE dashboard_state.neon_budget_spend;
DROP TABLE dashboard_state.neon_budget;
