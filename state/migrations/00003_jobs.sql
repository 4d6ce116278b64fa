-- +goose Up
-- Work that outlives a request, leased by one replica at a time so that
-- another can take it over when that one dies. params and progress never
-- hold a secret: a job whose inputs include one (a settings copy) keeps
-- them in the memory of the replica running it only.
CREATE TABLE dashboard_state.jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    key          text NOT NULL,
    target       text NOT NULL DEFAULT '',
    params       jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    replica      text NOT NULL DEFAULT '',
    lease_until  timestamptz,
    heartbeat_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    progress     jsonb NOT NULL DEFAULT '{}',
    result       text NOT NULL DEFAULT '',
    error        text NOT NULL DEFAULT '',
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);

-- One job at a time per key (an index build per table, a revocation per
-- branch, a copy per target branch).
CREATE UNIQUE INDEX jobs_one_active_per_key ON dashboard_state.jobs (key)
    WHERE status IN ('queued', 'running');

-- The latest job of a key, for the progress panels.
CREATE INDEX jobs_key_latest ON dashboard_state.jobs (key, id DESC);

-- What a replica may claim: queued jobs, and running ones whose lease ran out.
CREATE INDEX jobs_claimable ON dashboard_state.jobs (lease_until)
    WHERE status IN ('queued', 'running');

-- +goose Down
DROP TABLE dashboard_state.jobs;
