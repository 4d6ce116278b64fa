-- +goose Up
-- The dashboard processes sharing this store, as each last said it was alive.
CREATE TABLE dashboard_state.replicas (
    name       text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    version    text NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE dashboard_state.replicas;
