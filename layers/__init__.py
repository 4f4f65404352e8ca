"""Risk classification, the 4张清单, templates and exports (no Dash imports here)."""
