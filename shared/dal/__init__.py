"""Data access: the only layer that speaks SQL. Every function takes a ``TenantSession``."""
