package handlers

func (h *Handler) organizationRoutes(base string) []Route { return nil }
