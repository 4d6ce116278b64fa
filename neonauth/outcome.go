package neonauth

import (
	"errors"

	"github.com/neonauth-admin/dashboard/neonapi"
)

// ErrOutcomeUnknown matches every *OutcomeUnknownError.
var ErrOutcomeUnknown = errors.New("neonauth: outcome unknown")

// OutcomeUnknownError reports a change Neon answered with success but in a
// body that could not be read. Neon may or may not have made the change, so
// it is neither a success nor a failure: the person has to check.
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

// unknownOutcome turns a write's unreadable answer into an
// *OutcomeUnknownError naming change; other errors pass unchanged.
func unknownOutcome(err error, change string) error {
	if err == nil || !errors.Is(err, neonapi.ErrInvalidResponse) {
		return err
	}
	e := &OutcomeUnknownError{Change: change, Err: err}
	var reqErr *neonapi.RequestError
	if errors.As(err, &reqErr) {
		e.RequestID = reqErr.RequestID
	}
	return e
}
