package neonauth

import (
	"context"
	"errors"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// ErrOutcomeUnknown matches every *OutcomeUnknownError.
var ErrOutcomeUnknown = errors.New("neonauth: outcome unknown")

// OutcomeUnknownError reports a change that reached Neon without a usable
// answer coming back: a success whose body could not be read or lacked what
// the dashboard needs, a connection that dropped after the request went out,
// or no answer in time. Neon may or may not have made the change, so it is
// neither a success nor a failure: the person has to check, not try again.
type OutcomeUnknownError struct {
	// Change is what may or may not have happened, as a clause: "the user
	// was deleted".
	Change string
	// RequestID is the id the request was sent with, for Neon support.
	RequestID string
	Err       error
}

// Error says the outcome is unknown and why.
func (e *OutcomeUnknownError) Error() string {
	return "neonauth: unknown whether " + e.Change + ": " + e.Err.Error()
}

// Unwrap gives errors.Is and errors.As access to the neonapi error.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// OutcomeReason is why an outcome is unknown, for the sentence that says so.
type OutcomeReason int

// The reasons, from the answer's side.
const (
	// AnswerUnreadable: Neon answered with success in a body that could
	// not be decoded.
	AnswerUnreadable OutcomeReason = iota
	// AnswerIncomplete: Neon answered with success, but without a member
	// the dashboard needs (the new user's id, the keys), or with one it
	// cannot use; Fields names them.
	AnswerIncomplete
	// ConnectionDropped: the request went out, then the connection closed
	// before an answer came.
	ConnectionDropped
	// NoAnswerInTime: the request went out and no answer came in time.
	NoAnswerInTime
)

// Reason says why the outcome is unknown.
func (e *OutcomeUnknownError) Reason() OutcomeReason {
	switch {
	case errors.Is(e.Err, neonapi.ErrIncompleteAnswer):
		return AnswerIncomplete
	case errors.Is(e.Err, neonapi.ErrInvalidResponse):
		return AnswerUnreadable
	case errors.Is(e.Err, context.DeadlineExceeded):
		return NoAnswerInTime
	}
	return ConnectionDropped
}

// Fields are the members an incomplete answer lacked or could not use, for
// AnswerIncomplete; nil otherwise.
func (e *OutcomeUnknownError) Fields() []string {
	var incomplete *neonapi.IncompleteAnswerError
	if errors.As(e.Err, &incomplete) {
		return incomplete.Fields()
	}
	return nil
}

// unknownOutcome turns a write's failure that leaves its outcome open (see
// neonapi.OutcomeUnknown) into an *OutcomeUnknownError naming change; other
// errors pass unchanged.
func unknownOutcome(err error, change string) error {
	if err == nil || !neonapi.OutcomeUnknown(err) {
		return err
	}
	e := &OutcomeUnknownError{Change: change, Err: err}
	var reqErr *neonapi.RequestError
	if errors.As(err, &reqErr) {
		e.RequestID = reqErr.RequestID
	}
	return e
}
