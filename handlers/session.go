package handlers

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/neonauth-admin/dashboard/views"
)

// SessionName is the cookie that carries flash messages across redirects.
const SessionName = "neonauth_admin"

// Flash kinds, which pick the message's colour.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// addFlash queues a message for the next page this browser loads. Messages are
// plain text ("kind|message") so the cookie codec needs no type registration.
// Flashes never carry secrets: the cookie is signed, not encrypted, when
// SESSION_KEYS holds only signing keys.
func (h *Handler) addFlash(c echo.Context, kind, msg string) {
	if h.Sessions == nil {
		return
	}
	s, err := h.Sessions.Get(c.Request(), SessionName)
	if err != nil {
		// A cookie signed with a retired key: start over rather than fail.
		h.logger().Debug("session: discarding unreadable cookie", "err", err)
	}
	s.AddFlash(kind + "|" + msg)
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.logger().Error("session: save flash", "err", err)
	}
}

// popFlashes returns and clears the pending messages.
func (h *Handler) popFlashes(c echo.Context) []views.Flash {
	if h.Sessions == nil {
		return nil
	}
	if _, err := c.Request().Cookie(SessionName); err != nil {
		return nil // no cookie, nothing to read or rewrite
	}
	s, err := h.Sessions.Get(c.Request(), SessionName)
	if err != nil {
		return nil
	}
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.logger().Error("session: clear flashes", "err", err)
	}
	out := make([]views.Flash, 0, len(raw))
	for _, v := range raw {
		str, ok := v.(string)
		if !ok {
			continue
		}
		kind, msg, found := strings.Cut(str, "|")
		if !found {
			kind, msg = FlashInfo, str
		}
		out = append(out, views.Flash{Kind: kind, Message: msg})
	}
	return out
}
