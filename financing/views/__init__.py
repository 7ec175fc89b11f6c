"""The dashboard pages of results-based financing: the verification queue, claims and contracts."""
