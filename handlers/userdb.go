package handlers

// UserDatabases opens the users table of an integration's database.
// (Filled in with the users page.)
type UserDatabases interface{}
