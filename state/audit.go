package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditRecord is one audit entry as the dashboard writes it: who did what,
// where, and how it ended. The store adds the sequence number, the time,
// the replica and the hashes.
type AuditRecord struct {
	Actor  string
	Role   string
	Action string
	Method string
	Route  string
	// Project, Branch and Target are what the request acted on; TargetUser
	// is the user id the route names, so that a user's entries can be found.
	Project    string
	Branch     string
	Target     string
	TargetUser string
	// Outcome is ok, denied or error; Status the HTTP status answered.
	Outcome string
	Status  int
	// NeonStatus is Neon's answer to the last state-changing call (0: none
	// arrived); nil when Neon was not asked.
	NeonStatus    *int
	NeonRequestID string
	RequestID     string
	Peer          string
	Reason        string
	// Details are the facts the handler added (rows exported, before and
	// after of a settings change), as JSON values.
	Details map[string]any
}

// AuditEntry is one stored entry of the audit trail.
type AuditEntry struct {
	Seq int64
	At  time.Time
	AuditRecord
	// Replica is the dashboard process that wrote the entry.
	Replica string
	// PrevHash is the hash of the entry before (or of the retention anchor);
	// Hash covers it and every field of this entry.
	PrevHash string
	Hash     string
}

// auditColumns are the entries' columns in the order scanEntry reads them.
const auditColumns = `seq, at, actor, role, action, method, route, project, branch, target, target_user,
	outcome, status, neon_status, neon_request_id, request_id, peer, reason, details::text, replica, prev_hash, hash`

// AppendAudit adds r to the end of the audit trail. Appends from every
// replica take turns on the chain's head row, so each entry follows exactly
// one other and the chain stays linear.
func (s *Store) AppendAudit(ctx context.Context, r AuditRecord) (AuditEntry, error) {
	r = r.storable()
	details, err := canonicalDetails(r.Details)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: details: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	e := AuditEntry{AuditRecord: r, Replica: s.replica}
	if err := tx.QueryRow(ctx, `SELECT seq, hash FROM `+Schema+`.audit_head WHERE id FOR UPDATE`).Scan(&e.Seq, &e.PrevHash); err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: head: %w", err)
	}
	// The time is taken once the head is held, so entries' times follow
	// their order as far as the replicas' clocks agree.
	e.Seq++
	e.At = time.Now().UTC().Truncate(time.Microsecond)
	e.Hash = chainHash(e, details)
	_, err = tx.Exec(ctx, `INSERT INTO `+Schema+`.audit_entries (`+strings.ReplaceAll(auditColumns, "details::text", "details")+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19::jsonb, $20, $21, $22)`,
		e.Seq, e.At, r.Actor, r.Role, r.Action, r.Method, r.Route, r.Project, r.Branch, r.Target, r.TargetUser,
		r.Outcome, r.Status, r.NeonStatus, r.NeonRequestID, r.RequestID, r.Peer, r.Reason, string(details), e.Replica, e.PrevHash, e.Hash)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: insert: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+Schema+`.audit_head SET seq = $1, hash = $2 WHERE id`, e.Seq, e.Hash); err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: head: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return AuditEntry{}, fmt.Errorf("state: audit: commit: %w", err)
	}
	e.Details, _ = decodeDetails(details)
	return e, nil
}

// storable is r with what Postgres keeps in no text column replaced by
// U+FFFD: NUL characters and invalid UTF-8, which a request may carry (a
// form field of a refused request, say) and which must not keep its entry
// out of the trail. The details get the same in canonicalJSON.
func (r AuditRecord) storable() AuditRecord {
	for _, f := range []*string{&r.Actor, &r.Role, &r.Action, &r.Method, &r.Route, &r.Project, &r.Branch, &r.Target,
		&r.TargetUser, &r.Outcome, &r.NeonRequestID, &r.RequestID, &r.Peer, &r.Reason} {
		*f = storableText(*f)
	}
	return r
}

func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// chainHash is sha256 over the previous hash and the canonical encoding of
// every field of e, its sequence number and time included; details is the
// canonical encoding of e.Details.
func chainHash(e AuditEntry, details []byte) string {
	var neon any
	if e.NeonStatus != nil {
		neon = *e.NeonStatus
	}
	fields := []any{
		e.Seq, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Role, e.Action, e.Method, e.Route,
		e.Project, e.Branch, e.Target, e.TargetUser, e.Outcome, e.Status, neon, e.NeonRequestID,
		e.RequestID, e.Peer, e.Reason, json.RawMessage(details), e.Replica,
	}
	enc, err := json.Marshal(fields)
	if err != nil {
		// Every field is a string, a number or canonical JSON already.
		panic(fmt.Sprintf("state: audit: encode entry: %v", err))
	}
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(enc)
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalDetails encodes details the one way the hash covers them: keys
// sorted, no spaces, numbers normalized. Postgres's jsonb keeps neither the
// order of keys nor the spacing, so the stored text is brought back to this
// form before it is hashed again.
func canonicalDetails(details map[string]any) ([]byte, error) {
	if details == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b)
}

// canonicalJSON re-encodes a JSON document canonically.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = normalizeJSON(v)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// normalizeJSON writes every number one way: an integer in decimal, any
// other as the shortest float that reads back the same (jsonb prints 1e21 in
// full). It also replaces NUL characters in keys and strings, which jsonb
// refuses (see storable).
func normalizeJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[storableText(k)] = normalizeJSON(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalizeJSON(x)
		}
	case string:
		return storableText(t)
	case json.Number:
		if n, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
		if f, err := strconv.ParseFloat(t.String(), 64); err == nil {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return v
}

// decodeDetails reads stored details back into values.
func decodeDetails(b []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// scanEntry reads one row of auditColumns; raw is the details as stored.
func scanEntry(row pgx.Row) (e AuditEntry, raw []byte, err error) {
	var details string
	err = row.Scan(&e.Seq, &e.At, &e.Actor, &e.Role, &e.Action, &e.Method, &e.Route, &e.Project, &e.Branch,
		&e.Target, &e.TargetUser, &e.Outcome, &e.Status, &e.NeonStatus, &e.NeonRequestID, &e.RequestID,
		&e.Peer, &e.Reason, &details, &e.Replica, &e.PrevHash, &e.Hash)
	if err != nil {
		return e, nil, err
	}
	e.At = e.At.UTC()
	raw = []byte(details)
	if e.Details, err = decodeDetails(raw); err != nil {
		return e, nil, fmt.Errorf("details of entry %d: %w", e.Seq, err)
	}
	return e, raw, nil
}
