package neonauth

// PeopleDetail is the part of People that serves detail.
type PeopleDetail interface{}
