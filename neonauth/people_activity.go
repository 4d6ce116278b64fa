package neonauth

// PeopleActivity is the part of People that serves activity.
type PeopleActivity interface{}
