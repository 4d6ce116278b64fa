package neonauth

// RefreshProject makes the dashboard forget what it read from Neon about a
// project, so the next page reads it again: for changes made outside the
// dashboard (the Neon Console, another tool), which the read cache cannot
// see. The dashboard's own writes need no refresh; they drop the project's
// cached reads themselves. It sends nothing to Neon.
func (s *Service) RefreshProject(projectID string) {
	s.neon.InvalidateProject(projectID)
}
