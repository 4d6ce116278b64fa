package state

// ForgeAuditHash is the hash e would have with its fields as they are now:
// what a forger who knows the algorithm writes into a row they changed.
func ForgeAuditHash(e AuditEntry) (string, error) {
	details, err := canonicalDetails(e.Details)
	if err != nil {
		return "", err
	}
	return chainHash(e, details), nil
}

// SetExportChunk sets how many entries EachAudit reads per query, until the
// test ends.
func SetExportChunk(t interface{ Cleanup(func()) }, n int) {
	old := exportChunk
	exportChunk = n
	t.Cleanup(func() { exportChunk = old })
}
