package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/neonapi"
)

func TestProblemFor(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		status    int
		expected  bool
		requestID string
	}{
		{"neon 404", &neonapi.APIError{StatusCode: 404, Message: "project not found", RequestID: "r1"}, 404, true, "r1"},
		{"neon 409 wrapped", fmt.Errorf("enable: %w", &neonapi.APIError{StatusCode: 409, RequestID: "r2"}), 409, true, "r2"},
		{"neon 401 is the key's fault", &neonapi.APIError{StatusCode: 401, RequestID: "r3"}, http.StatusBadGateway, true, "r3"},
		{"neon 400", &neonapi.APIError{StatusCode: 400}, http.StatusUnprocessableEntity, true, ""},
		{"neon 423", &neonapi.APIError{StatusCode: 423}, http.StatusLocked, true, ""},
		{"neon 503", &neonapi.APIError{StatusCode: 503, RequestID: "r4"}, http.StatusBadGateway, true, "r4"},
		{"neon unreachable", &neonapi.RequestError{Operation: "getProject", Method: "GET", Path: "/projects/x", RequestID: "r5", Err: errors.New("connection refused")}, http.StatusBadGateway, true, "r5"},
		{"local rate limit", fmt.Errorf("wait: %w", neonapi.ErrRateLimited), http.StatusTooManyRequests, true, ""},
		{"timeout", context.DeadlineExceeded, http.StatusGatewayTimeout, true, ""},
		{"echo 404", echo.ErrNotFound, 404, true, ""},
		{"echo 500", echo.NewHTTPError(500, "internal detail"), 500, false, ""},
		{"anything else", errors.New("pq: password authentication failed for user x"), 500, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, expected := problemFor(tc.err)
			if p.Status != tc.status || expected != tc.expected || p.RequestID != tc.requestID {
				t.Errorf("problemFor = status %d expected %t request id %q; want %d %t %q", p.Status, expected, p.RequestID, tc.status, tc.expected, tc.requestID)
			}
			if p.Title == "" {
				t.Error("no title")
			}
			if !tc.expected && (p.Message == "internal detail" || p.Message == tc.err.Error()) {
				t.Errorf("internal error text reaches the browser: %q", p.Message)
			}
		})
	}
}
