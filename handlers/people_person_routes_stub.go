package handlers

func (h *Handler) personRoutes(base string) []Route { return nil }
