package handlers

func (h *Handler) sessionRoutes(base string) []Route { return nil }
