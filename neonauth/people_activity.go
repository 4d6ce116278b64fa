package neonauth

import (
	"context"
	"time"

	"github.com/neonauth-admin/dashboard/db"
)

// PeopleActivity is the part of People that serves activity: active users
// per day, week or month, and sign-ins per provider, each from one GROUP BY
// statement over the branch's sessions, cached per range.
type PeopleActivity interface {
	ActiveUsers(ctx context.Context, from, to time.Time, bucket Bucket) (ActiveUsers, error)
	SignIns(ctx context.Context, from, to time.Time, bucket Bucket) (SignIns, error)
}

// The activity vocabulary, so handlers need not import db.
type (
	ActiveUsers   = db.ActiveUsers
	ActivityPoint = db.ActivityPoint
	SignIns       = db.SignIns
	SignInPoint   = db.SignInPoint
)

// BucketMonth counts per calendar month; the activity charts take it as
// well as BucketDay and BucketWeek.
const BucketMonth = db.BucketMonth

// SignInAttribution says in words how a sign-in is attributed to a
// provider; SignInEmail and SignInOther are the providers it adds.
const (
	SignInAttribution = db.SignInAttribution
	SignInEmail       = db.SignInEmail
	SignInOther       = db.SignInOther
)

// IndexForSessions is the advisor's offer of the sessions view's index.
const IndexForSessions = db.IndexForSessions
