package neonapi

import "context"

// The reads below are a branch's Neon Auth settings: what the readiness
// checklist and the branch comparison read, nine calls a branch. They are
// cached like every other read, so a page with a readiness badge per branch
// costs Neon nothing while the cache is warm; the pages a person acts on (the
// readiness checklist, the settings forms) read them live with ReadLive, which
// also refreshes what the badges show. Every settings write drops the
// project's entries, even when it fails (it may still have applied).

// GetBranch is Client.GetBranch (operationId getProjectBranch), cached.
func (c *Cache) GetBranch(ctx context.Context, projectID, branchID string) (*Branch, error) {
	return cached(ctx, c, cacheKey{op: "getProjectBranch", project: projectID, rest: branchID}, clonePtr[Branch],
		func(ctx context.Context) (*Branch, error) { return c.API.GetBranch(ctx, projectID, branchID) })
}

// ListTrustedDomains is Client.ListTrustedDomains (operationId
// listBranchNeonAuthTrustedDomains), cached.
func (c *Cache) ListTrustedDomains(ctx context.Context, projectID, branchID string) ([]TrustedDomain, error) {
	return cached(ctx, c, cacheKey{op: "listBranchNeonAuthTrustedDomains", project: projectID, rest: branchID}, cloneSlice[TrustedDomain],
		func(ctx context.Context) ([]TrustedDomain, error) {
			return c.API.ListTrustedDomains(ctx, projectID, branchID)
		})
}

// GetAllowLocalhost is Client.GetAllowLocalhost (operationId
// getNeonAuthAllowLocalhost), cached.
func (c *Cache) GetAllowLocalhost(ctx context.Context, projectID, branchID string) (bool, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthAllowLocalhost", project: projectID, rest: branchID}, func(b bool) bool { return b },
		func(ctx context.Context) (bool, error) { return c.API.GetAllowLocalhost(ctx, projectID, branchID) })
}

// ListOAuthProviders is Client.ListOAuthProviders (operationId
// listBranchNeonAuthOauthProviders), cached.
func (c *Cache) ListOAuthProviders(ctx context.Context, projectID, branchID string) ([]OAuthProvider, error) {
	return cached(ctx, c, cacheKey{op: "listBranchNeonAuthOauthProviders", project: projectID, rest: branchID}, cloneSlice[OAuthProvider],
		func(ctx context.Context) ([]OAuthProvider, error) {
			return c.API.ListOAuthProviders(ctx, projectID, branchID)
		})
}

// GetEmailAndPasswordConfig is Client.GetEmailAndPasswordConfig (operationId
// getNeonAuthEmailAndPasswordConfig), cached.
func (c *Cache) GetEmailAndPasswordConfig(ctx context.Context, projectID, branchID string) (*EmailAndPasswordConfig, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthEmailAndPasswordConfig", project: projectID, rest: branchID}, clonePtr[EmailAndPasswordConfig],
		func(ctx context.Context) (*EmailAndPasswordConfig, error) {
			return c.API.GetEmailAndPasswordConfig(ctx, projectID, branchID)
		})
}

// GetEmailProvider is Client.GetEmailProvider (operationId
// getNeonAuthEmailProvider), cached. Neon never returns the SMTP password,
// so none is held.
func (c *Cache) GetEmailProvider(ctx context.Context, projectID, branchID string) (*EmailServer, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthEmailProvider", project: projectID, rest: branchID}, clonePtr[EmailServer],
		func(ctx context.Context) (*EmailServer, error) {
			return c.API.GetEmailProvider(ctx, projectID, branchID)
		})
}

// GetPluginConfigs is Client.GetPluginConfigs (operationId
// getNeonAuthPluginConfigs), cached.
func (c *Cache) GetPluginConfigs(ctx context.Context, projectID, branchID string) (*PluginConfigs, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthPluginConfigs", project: projectID, rest: branchID}, clonePluginConfigs,
		func(ctx context.Context) (*PluginConfigs, error) {
			return c.API.GetPluginConfigs(ctx, projectID, branchID)
		})
}

// clonePluginConfigs copies every plugin, not just the pointers to them.
func clonePluginConfigs(p *PluginConfigs) *PluginConfigs {
	if p == nil {
		return nil
	}
	return &PluginConfigs{
		Organization:     clonePtr(p.Organization),
		MagicLink:        clonePtr(p.MagicLink),
		PhoneNumber:      clonePtr(p.PhoneNumber),
		EmailProvider:    clonePtr(p.EmailProvider),
		EmailAndPassword: clonePtr(p.EmailAndPassword),
		OAuthProviders:   cloneSlice(p.OAuthProviders),
		AllowLocalhost:   clonePtr(p.AllowLocalhost),
	}
}

// GetPhoneNumberPlugin is Client.GetPhoneNumberPlugin (operationId
// getNeonAuthPhoneNumberPlugin), cached.
func (c *Cache) GetPhoneNumberPlugin(ctx context.Context, projectID, branchID string) (*PhoneNumberConfig, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthPhoneNumberPlugin", project: projectID, rest: branchID}, clonePtr[PhoneNumberConfig],
		func(ctx context.Context) (*PhoneNumberConfig, error) {
			return c.API.GetPhoneNumberPlugin(ctx, projectID, branchID)
		})
}

// GetWebhookConfig is Client.GetWebhookConfig (operationId
// getNeonAuthWebhookConfig), cached.
func (c *Cache) GetWebhookConfig(ctx context.Context, projectID, branchID string) (*WebhookConfig, error) {
	return cached(ctx, c, cacheKey{op: "getNeonAuthWebhookConfig", project: projectID, rest: branchID}, cloneWebhookConfig,
		func(ctx context.Context) (*WebhookConfig, error) {
			return c.API.GetWebhookConfig(ctx, projectID, branchID)
		})
}

// cloneWebhookConfig copies the events too.
func cloneWebhookConfig(w *WebhookConfig) *WebhookConfig {
	if w == nil {
		return nil
	}
	out := *w
	out.EnabledEvents = cloneSlice(w.EnabledEvents)
	return &out
}

// AddTrustedDomain is Client.AddTrustedDomain; it drops the project's entries.
func (c *Cache) AddTrustedDomain(ctx context.Context, projectID, branchID string, req AddTrustedDomainRequest) error {
	defer c.InvalidateProject(projectID)
	return c.API.AddTrustedDomain(ctx, projectID, branchID, req)
}

// DeleteTrustedDomains is Client.DeleteTrustedDomains; it drops the project's
// entries.
func (c *Cache) DeleteTrustedDomains(ctx context.Context, projectID, branchID string, req DeleteTrustedDomainsRequest) error {
	defer c.InvalidateProject(projectID)
	return c.API.DeleteTrustedDomains(ctx, projectID, branchID, req)
}

// UpdateAllowLocalhost is Client.UpdateAllowLocalhost; it drops the project's
// entries.
func (c *Cache) UpdateAllowLocalhost(ctx context.Context, projectID, branchID string, allow bool) (bool, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateAllowLocalhost(ctx, projectID, branchID, allow)
}

// AddOAuthProvider is Client.AddOAuthProvider; it drops the project's entries.
func (c *Cache) AddOAuthProvider(ctx context.Context, projectID, branchID string, req AddOAuthProviderRequest) (*OAuthProvider, error) {
	defer c.InvalidateProject(projectID)
	return c.API.AddOAuthProvider(ctx, projectID, branchID, req)
}

// UpdateOAuthProvider is Client.UpdateOAuthProvider; it drops the project's
// entries.
func (c *Cache) UpdateOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID, req UpdateOAuthProviderRequest) (*OAuthProvider, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateOAuthProvider(ctx, projectID, branchID, id, req)
}

// DeleteOAuthProvider is Client.DeleteOAuthProvider; it drops the project's
// entries.
func (c *Cache) DeleteOAuthProvider(ctx context.Context, projectID, branchID string, id OAuthProviderID) error {
	defer c.InvalidateProject(projectID)
	return c.API.DeleteOAuthProvider(ctx, projectID, branchID, id)
}

// UpdateEmailAndPasswordConfig is Client.UpdateEmailAndPasswordConfig; it
// drops the project's entries.
func (c *Cache) UpdateEmailAndPasswordConfig(ctx context.Context, projectID, branchID string, req EmailAndPasswordConfigUpdate) (*EmailAndPasswordConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateEmailAndPasswordConfig(ctx, projectID, branchID, req)
}

// UpdateEmailProvider is Client.UpdateEmailProvider; it drops the project's
// entries.
func (c *Cache) UpdateEmailProvider(ctx context.Context, projectID, branchID string, s EmailServer) (*EmailServer, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateEmailProvider(ctx, projectID, branchID, s)
}

// UpdateOrganizationPlugin is Client.UpdateOrganizationPlugin; it drops the
// project's entries.
func (c *Cache) UpdateOrganizationPlugin(ctx context.Context, projectID, branchID string, req OrganizationConfigUpdate) (*OrganizationConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateOrganizationPlugin(ctx, projectID, branchID, req)
}

// UpdateMagicLinkPlugin is Client.UpdateMagicLinkPlugin; it drops the
// project's entries.
func (c *Cache) UpdateMagicLinkPlugin(ctx context.Context, projectID, branchID string, req MagicLinkConfigUpdate) (*MagicLinkConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateMagicLinkPlugin(ctx, projectID, branchID, req)
}

// UpdatePhoneNumberPlugin is Client.UpdatePhoneNumberPlugin; it drops the
// project's entries.
func (c *Cache) UpdatePhoneNumberPlugin(ctx context.Context, projectID, branchID string, req PhoneNumberConfigUpdate) (*PhoneNumberConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdatePhoneNumberPlugin(ctx, projectID, branchID, req)
}

// UpdateWebhookConfig is Client.UpdateWebhookConfig; it drops the project's
// entries.
func (c *Cache) UpdateWebhookConfig(ctx context.Context, projectID, branchID string, cfg WebhookConfig) (*WebhookConfig, error) {
	defer c.InvalidateProject(projectID)
	return c.API.UpdateWebhookConfig(ctx, projectID, branchID, cfg)
}
