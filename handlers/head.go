package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// headAsGet answers HEAD on every GET route. Echo routes HEAD only to
// handlers registered for it, so probes, link checkers and uptime monitors
// would get 405 everywhere. It runs before routing (Echo.Pre): the request is
// routed and handled as the GET it stands for, and the body is counted
// instead of sent, so the answer has the GET's status and headers, with its
// Content-Length.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodHead {
			return next(c)
		}
		req.Method = http.MethodGet
		c.Set(headKey, true)
		res := c.Response()
		w := &headWriter{ResponseWriter: res.Writer}
		res.Writer = w
		// Errors are answered here, through the counting writer, rather than
		// after this returns, when the GET's writer would be back in place.
		if err := next(c); err != nil {
			c.Error(err)
		}
		res.Writer = w.ResponseWriter
		req.Method = http.MethodHead
		w.finish()
		return nil
	}
}

// headKey marks a HEAD request answered as its GET.
const headKey = "handlers.head"

// isHead reports whether the request is a HEAD answered as its GET: a
// handler whose GET does work that only its body needs (an export) can
// answer with the headers alone.
func isHead(c echo.Context) bool {
	head, _ := c.Get(headKey).(bool)
	return head
}

// cutKey marks a response that failed after its first bytes were sent.
const cutKey = "handlers.cut"

// cutResponse marks c's response as failed midway: abortCutResponses then
// ends the connection without the end of the body, so the client sees a
// failed download rather than a clean, short one.
func cutResponse(c echo.Context) { c.Set(cutKey, true) }

// abortCutResponses ends the connection of a response cutResponse marked,
// once every other middleware (the audit line, the metrics) is done with it.
// It is the outermost middleware, outside the panic recovery, which passes
// http.ErrAbortHandler on to net/http as the way to abort a response.
func abortCutResponses(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if cut, _ := c.Get(cutKey).(bool); cut {
			panic(http.ErrAbortHandler)
		}
		return err
	}
}

// headWriter holds back the status until the handler is done, counting the
// body instead of writing it, so the Content-Length it then sends is the
// GET's.
type headWriter struct {
	http.ResponseWriter
	status int
	n      int
}

// WriteHeader records the status; informational ones pass through.
func (w *headWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.status == 0 {
		w.status = code
	}
}

// Write counts p.
func (w *headWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// Flush does nothing: the headers go out once the handler is done.
func (w *headWriter) Flush() {}

// finish sends the headers, with the counted length when the handler set
// none.
func (w *headWriter) finish() {
	if w.status == 0 {
		return
	}
	h := w.Header()
	if h.Get(echo.HeaderContentLength) == "" && w.n > 0 {
		h.Set(echo.HeaderContentLength, strconv.Itoa(w.n))
	}
	w.ResponseWriter.WriteHeader(w.status)
}
