"""Helpers every layer above the public API shares: the cache folder, settings, output."""
