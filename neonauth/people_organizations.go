package neonauth

// PeopleOrganizations is the part of People that serves organizations.
type PeopleOrganizations interface{}
