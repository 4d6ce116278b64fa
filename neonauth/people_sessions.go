package neonauth

// PeopleSessions is the part of People that serves sessions.
type PeopleSessions interface{}
