"""Keeping the site up when Redis or PostgreSQL is not: cache misses, safe after-commit work."""
