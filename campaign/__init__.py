"""The 重大事故隐患专项排查整治 campaign: the hidden-hazard closed loop, inspections and reporting (no Dash here)."""
