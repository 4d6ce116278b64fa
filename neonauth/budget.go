package neonauth

// NeonSpend returns the dashboard's spend of Neon's rate budget: the calls
// it sent in the last minute and its budget per minute.
func (s *Service) NeonSpend() Spend { return s.neon.Spend() }
