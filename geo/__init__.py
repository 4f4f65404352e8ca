"""Spatial data access and geoprocessing for RiskMap (no Dash imports here)."""
