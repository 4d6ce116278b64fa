-- +goose Up
-- The audit trail: one row per audited request (and per change of a request
-- that makes several), append-only and hash-chained. Each row's hash covers
-- the previous row's hash and every field of its own, so an altered, forged
-- or removed row breaks the chain from that row on (dashboard audit verify).
CREATE TABLE dashboard_state.audit_entries (
    seq             bigint PRIMARY KEY,
    at              timestamptz NOT NULL,
    actor           text NOT NULL,
    role            text NOT NULL,
    action          text NOT NULL,
    method          text NOT NULL,
    route           text NOT NULL,
    project         text NOT NULL,
    branch          text NOT NULL,
    target          text NOT NULL,
    target_user     text NOT NULL,
    outcome         text NOT NULL,
    status          integer NOT NULL,
    neon_status     integer,
    neon_request_id text NOT NULL,
    request_id      text NOT NULL,
    peer            text NOT NULL,
    reason          text NOT NULL,
    details         jsonb NOT NULL,
    replica         text NOT NULL,
    prev_hash       text NOT NULL,
    hash            text NOT NULL
);

-- The page's filters, each paged newest first by seq.
CREATE INDEX audit_entries_actor ON dashboard_state.audit_entries (actor, seq DESC);
CREATE INDEX audit_entries_action ON dashboard_state.audit_entries (action, seq DESC);
CREATE INDEX audit_entries_project ON dashboard_state.audit_entries (project, branch, seq DESC);
CREATE INDEX audit_entries_target_user ON dashboard_state.audit_entries (target_user, seq DESC) WHERE target_user <> '';
CREATE INDEX audit_entries_at ON dashboard_state.audit_entries (at);

-- The chain's head: the last entry's seq and hash. Appends lock this one row
-- FOR UPDATE, so appends from every replica take turns and the chain stays
-- linear.
CREATE TABLE dashboard_state.audit_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO dashboard_state.audit_head (seq, hash) VALUES (0, '');

-- The retention anchor: the seq and hash of the last entry pruned, from
-- which the remaining chain verifies.
CREATE TABLE dashboard_state.audit_anchor (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq       bigint NOT NULL,
    hash      text NOT NULL,
    pruned_at timestamptz
);
INSERT INTO dashboard_state.audit_anchor (seq, hash) VALUES (0, '');

-- Entries are never changed. Only the retention prune deletes, and it says
-- so in its own transaction (SET LOCAL dashboard_state.audit_prune = 'on').
-- +goose StatementBegin
CREATE FUNCTION dashboard_state.audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('dashboard_state.audit_prune', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_entries_append_only
    BEFORE UPDATE OR DELETE ON dashboard_state.audit_entries
    FOR EACH ROW EXECUTE FUNCTION dashboard_state.audit_refuse_change();

CREATE TRIGGER audit_entries_no_truncate
    BEFORE TRUNCATE ON dashboard_state.audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_state.audit_refuse_change();

-- +goose Down
DROP TABLE dashboard_state.audit_entries;
DROP TABLE dashboard_state.audit_head;
DROP TABLE dashboard_state.audit_anchor;
DROP FUNCTION dashboard_state.audit_refuse_change();
