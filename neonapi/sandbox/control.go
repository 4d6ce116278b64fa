package sandbox

import (
	"bytes"
	"html/template"
	"net/http"
	"time"
)

// faultJSON is a fault as the control endpoint reads and shows it.
type faultJSON struct {
	Kind              FaultKind `json:"kind"`
	Count             int       `json:"count"`
	PathContains      string    `json:"path_contains,omitempty"`
	Method            string    `json:"method,omitempty"`
	RetryAfterSeconds int       `json:"retry_after_seconds,omitempty"`
	HangMS            int64     `json:"hang_ms,omitempty"`
	Body              string    `json:"body,omitempty"`
}

func (s *Sandbox) faultsBody() any {
	list := []faultJSON{}
	for _, f := range s.Faults() {
		fj := faultJSON{Kind: f.Kind, Count: f.Count, PathContains: f.PathContains, Method: f.Method, Body: f.Body}
		switch f.Kind {
		case FaultRateLimited:
			fj.RetryAfterSeconds = int(f.RetryAfter / time.Second)
		case FaultHang, FaultHangAfter:
			fj.HangMS = f.Hang.Milliseconds()
		}
		list = append(list, fj)
	}
	return struct {
		Faults []faultJSON `json:"faults"`
	}{list}
}

func (s *Sandbox) postFaults(w http.ResponseWriter, r *http.Request) error {
	var in faultJSON
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if in.RetryAfterSeconds < 0 || in.HangMS < 0 {
		return badRequest("retry_after_seconds and hang_ms must not be negative")
	}
	f := Fault{
		Kind: in.Kind, Count: in.Count, PathContains: in.PathContains, Method: in.Method,
		RetryAfter: time.Duration(in.RetryAfterSeconds) * time.Second,
		Hang:       time.Duration(in.HangMS) * time.Millisecond,
		Body:       in.Body,
	}
	if err := f.Validate(); err != nil {
		return badRequest("%s", err.Error())
	}
	s.InjectFault(f)
	writeJSON(w, http.StatusCreated, s.faultsBody())
	return nil
}

func (s *Sandbox) getFaults(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.faultsBody())
	return nil
}

func (s *Sandbox) deleteFaults(w http.ResponseWriter, r *http.Request) error {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// syncJSON is the sync mode as the control endpoint reads and shows it.
type syncJSON struct {
	Mode    SyncMode `json:"mode"`
	DelayMS int64    `json:"delay_ms"`
	Pending int64    `json:"pending"`
}

func (s *Sandbox) syncBody() syncJSON {
	mode, delay, _ := s.sync.state()
	return syncJSON{Mode: mode, DelayMS: delay.Milliseconds(), Pending: s.sync.pending.Load()}
}

func (s *Sandbox) postSync(w http.ResponseWriter, r *http.Request) error {
	var in syncJSON
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	switch in.Mode {
	case SyncNormal, SyncSlow, SyncNever:
	default:
		return badRequest("mode must be normal, slow or never")
	}
	if in.DelayMS < 0 {
		return badRequest("delay_ms must not be negative")
	}
	s.SetSync(in.Mode, time.Duration(in.DelayMS)*time.Millisecond)
	writeJSON(w, http.StatusOK, s.syncBody())
	return nil
}

func (s *Sandbox) getSync(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.syncBody())
	return nil
}

// getEmails lists the test emails sendNeonAuthTestEmail recorded, oldest
// first.
func (s *Sandbox) getEmails(w http.ResponseWriter, r *http.Request) error {
	list := s.Emails()
	if list == nil {
		list = []Email{}
	}
	writeJSON(w, http.StatusOK, struct {
		Emails []Email `json:"emails"`
	}{list})
	return nil
}

func (s *Sandbox) deleteEmails(w http.ResponseWriter, r *http.Request) error {
	s.ClearEmails()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var transferPage = template.Must(template.New("transfer").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Neon API sandbox</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto">
<h1 data-testid="transfer-result">{{.Title}}</h1>
<p>{{.Text}}</p>
</body></html>
`))

// confirmTransfer stands for the auth provider's confirmation page: opening
// the URL transferNeonAuthProviderProject answered completes the transfer.
func (s *Sandbox) confirmTransfer(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	s.mu.Lock()
	in := s.transfers[code]
	if in != nil {
		delete(s.transfers, code)
		if !in.removed.Load() {
			in.ownedBy, in.transferStatus = "user", "finished"
		} else {
			in = nil
		}
	}
	s.mu.Unlock()
	page := struct{ Title, Text string }{"Transfer complete",
		"The auth provider project now belongs to your account; listNeonAuthIntegrations shows it as owned by \"user\"."}
	status := http.StatusOK
	if in == nil {
		page = struct{ Title, Text string }{"Unknown transfer", "This transfer link is invalid, already used, or its integration was deleted."}
		status = http.StatusNotFound
	} else {
		page.Text = "The auth provider project " + in.providerProjectID + " now belongs to your account; listNeonAuthIntegrations shows it as owned by \"user\"."
	}
	var buf bytes.Buffer
	if err := transferPage.Execute(&buf, page); err != nil {
		http.Error(w, "render page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// jwks serves an empty key set at Stack Auth integrations' jwks_url, so that
// the URL answers like a real one. Better Auth integrations serve their own
// keys at their base URL (betterauth_jwt.go).
func (s *Sandbox) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"keys":[]}` + "\n"))
}
