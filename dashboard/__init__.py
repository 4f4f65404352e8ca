"""The RiskMap Dash app (draws on geo/ and layers/; holds no SQL or rule logic)."""
