"""Geoprocessing checks: setbacks, pipeline encroachment, HCAs, tailings and the site pre-check.

How a rule family is written (read this before adding one):

- A family is a pure function ``check_<family>(bundle, rules) -> GeoDataFrame`` of findings. It
  takes a :class:`~geo.checks.bundle.Bundle` (layers in EPSG:4490 with ``key``, ``adcode`` and the
  stored columns; ``bundle.metric(layer)`` is the same layer in the CGCS2000 Gauss-Krüger zone
  ``bundle.metric_epsg``) and a :class:`~geo.checks.ruleset.RuleSet`. No SQL, no Dash, no I/O, so the
  same code runs on the database (``sources.bundle_from_store``) and on files (``sources.bundle_from_file``).
- It is registered by one row in :data:`geo.checks.families.FAMILIES` (name, Chinese and English
  name, how to run it, whether the site pre-check runs it); the runner, ``riskmap check --family``
  and the pre-check read that table. Its rules carry ``family: <name>`` in ``geo/rules/checks.yaml``.
- All distances are metres in ``bundle.metric(...)``; never in degrees or Web Mercator. Geometries
  go back to storage coordinates with :func:`geo.checks.metric_frame.to_storage`; long lines are
  cut for index queries with :func:`geo.checks.metric_frame.cut_line`.
- Cells are read with :mod:`geo.cell_values` (``text_or_none``, ``number_or_none``, ``text_column``
  …): blank text is missing, numeric text counts, NaN and inf are not numbers. No module keeps its
  own ``_text`` or ``_number``.
- Every threshold, lookup and grade comes from the rule (``geo/rules/checks.yaml``: ``threshold_m``,
  ``inclusive``, ``params``); nothing that the YAML holds is hard-coded. ``Rule.hit(d)`` applies the
  threshold with its inclusivity.
- Each finding is built with :func:`~geo.checks.findings.finding` (rule code and clause copied from
  the rule; subject = hazard source, object = exposed feature, by layer name, key and name; measured
  and required metres; verdict; the object's adcode; a geometry that shows it, e.g. the shortest
  line; ``detail`` a :class:`~geo.checks.findings.Bilingual` — Chinese and English kept apart, stored as
  "中文 / English" — never a string to be cut at " / "), and returned via ``findings_frame``.
- Thresholds are compared on unrounded values with ``Rule.hit`` (round only for display); mileage and
  along-line lengths come from :class:`~geo.checks.mileage.Chainage` (one convention for multi-part
  lines, geodesic lengths).
- Candidate pairs come from spatial indexes (``sindex.query(..., predicate="dwithin", distance=d)``),
  never from all-pairs loops: city runs are benchmarked on 500,000 buildings.
- Tests: tiny geometries built in code around thresholds (4.8 / 5.0 / 5.2 m) in more than one
  Gauss-Krüger zone, plus a run on the demo database (``demo_db`` fixture in tests/conftest.py,
  marked ``postgis``). Code must pass ruff and mypy (pyproject.toml) with numpydoc docstrings.
"""
