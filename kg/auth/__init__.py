"""Who is calling: OIDC bearer tokens (Keycloak), GitLab tokens, or nobody."""
