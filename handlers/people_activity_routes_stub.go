package handlers

func (h *Handler) activityRoutes(base string) []Route { return nil }
