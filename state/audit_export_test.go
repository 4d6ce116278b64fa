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
