"""The grading inputs of each enterprise, from the data RiskMap holds.

Linking (one rule each, stated here once):

- **Hidden hazards** belong to an enterprise by the hazard's unified social credit code
  (``credit_code``) or, when it has none, by the credit code of the risk point it names
  (``risk_point_code`` = a risk point's ``code``), or, when neither gives a code, by its
  ``enterprise_name`` if exactly one enterprise has that name (:func:`hazard_owner`). Open,
  open-major, overdue and rectified are :func:`layers.measures.hazard_masks`'s definitions; a report
  judged not a hazard (不予核定) counts nowhere.
- **Open violations** are the findings :func:`layers.measures.is_violation` counts (verdict 违规,
  status open or in remediation) whose subject is the enterprise (``subject_type`` enterprises,
  ``subject_key`` = its key) or one of its plant parts (``installations`` whose
  ``enterprise_credit_code`` is its credit code).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from campaign.reference import load_reference
from geo.checks.bundle import Bundle
from layers.grading.rubric import INPUT_KINDS
from layers.measures import hazard_masks, is_violation
from layers.values import text_or_none

#: Identity columns of every grading frame.
ID_COLUMNS = ("key", "credit_code", "name", "adcode", "industry", "sector")
#: Input columns (the inputs a rubric may use, :data:`layers.grading.rubric.INPUT_KINDS`).
INPUT_CODES: tuple[str, ...] = tuple(INPUT_KINDS)
#: The counts behind the rectification rate.
COUNT_COLUMNS = ("hazards_total", "hazards_done")


def _col(frame: pd.DataFrame, name: str) -> list[Any]:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


def hazard_owner(hazards: pd.DataFrame, enterprises: pd.DataFrame, risk_points: pd.DataFrame) -> pd.Series:
    """Return the key of the enterprise each hidden hazard belongs to (None when none).

    By the hazard's credit code; else by the credit code of the risk point it names; else by its
    ``enterprise_name`` when exactly one enterprise has that name.

    Parameters
    ----------
    hazards : DataFrame
        ``hidden_hazards`` (``credit_code``, ``risk_point_code``, ``enterprise_name``).
    enterprises : DataFrame
        ``enterprises`` (``key``, ``credit_code``, ``name``).
    risk_points : DataFrame
        ``risk_points`` (``code``, ``credit_code``).

    Returns
    -------
    Series of object
        Aligned with ``hazards``.

    Examples
    --------
    >>> ents = pd.DataFrame({"key": ["E1", "E2", "E3"], "credit_code": ["C1", "C2", None], "name": ["甲", "乙", "丙"]})
    >>> hz = pd.DataFrame({"credit_code": ["C1", None, None, None], "risk_point_code": ["RP-2", "RP-2", None, "RP-9"],
    ...                    "enterprise_name": [None, None, "丙", "丁"]})
    >>> hazard_owner(hz, ents, pd.DataFrame({"code": ["RP-2"], "credit_code": ["C2"]})).tolist()
    ['E1', 'E2', 'E3', None]
    """
    keys = [str(k) for k in _col(enterprises, "key")]
    key_of = {c: k for k, c in zip(keys, (text_or_none(c) for c in _col(enterprises, "credit_code")), strict=True)
              if c}
    names = [text_or_none(n) for n in _col(enterprises, "name")]
    by_name = {n: k for k, n in zip(keys, names, strict=True) if n and names.count(n) == 1}
    by_point = {str(c): text_or_none(cc) for c, cc in zip(_col(risk_points, "code"), _col(risk_points, "credit_code"),
                                                         strict=True) if text_or_none(c)}
    owners: list[str | None] = []
    for own, point, name in zip(_col(hazards, "credit_code"), _col(hazards, "risk_point_code"),
                                _col(hazards, "enterprise_name"), strict=True):
        credit = text_or_none(own)
        if credit is None and text_or_none(point):
            credit = by_point.get(str(text_or_none(point)))
        owner = key_of.get(credit) if credit else None
        if owner is None and credit is None:
            owner = by_name.get(text_or_none(name) or "")
        owners.append(owner)
    return pd.Series(owners, index=hazards.index, dtype=object)


def _violation_owner(findings: pd.DataFrame, installations: pd.DataFrame, key_of: dict[str, str]) -> pd.Series:
    """Key of the enterprise each open violation concerns (None for other subjects)."""
    part_owner = {str(k): text_or_none(c) for k, c in zip(_col(installations, "key"),
                                                          _col(installations, "enterprise_credit_code"), strict=True)}
    owners: list[str | None] = []
    for kind, key in zip(_col(findings, "subject_type"), _col(findings, "subject_key"), strict=True):
        owner = None
        if kind == "enterprises":
            owner = str(key)
        elif kind == "installations":
            credit = part_owner.get(str(key))
            owner = key_of.get(credit) if credit else None
        owners.append(owner)
    return pd.Series(owners, index=findings.index, dtype=object)


def enterprise_inputs(bundle: Bundle, findings: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Return the raw grading inputs of every enterprise of the bundle.

    Parameters
    ----------
    bundle : Bundle
        ``enterprises``, ``risk_points``, ``installations`` and ``hidden_hazards``.
    findings : DataFrame
        Stored findings (:func:`geo.store.read_findings`, any status) or a run's findings.
    as_of : date
        Reference day for overdue hazards.

    Returns
    -------
    DataFrame
        One row per enterprise, in key order: :data:`ID_COLUMNS` (``sector`` is the 行业领域 of
        ``campaign/reference.yaml``, ``other`` when none), the inputs :data:`INPUT_CODES`
        (``rectification_rate`` None when the enterprise has no hidden hazard) and
        :data:`COUNT_COLUMNS`.
    """
    ents = bundle["enterprises"]
    ref = load_reference()
    keys = [str(k) for k in _col(ents, "key")]
    credits = [text_or_none(c) for c in _col(ents, "credit_code")]
    key_of = {c: k for k, c in zip(keys, credits, strict=True) if c}
    hz = bundle["hidden_hazards"]
    masks = hazard_masks(hz, as_of)
    owner = hazard_owner(hz, ents, bundle["risk_points"])
    facts = pd.DataFrame({"owner": owner, **{k: masks[k].astype(bool) for k in ("counted", "open_major", "overdue",
                                                                                  "done")}})
    facts["done"] &= facts["counted"]
    sums = facts[facts["owner"].notna()].groupby("owner")[["counted", "open_major", "overdue", "done"]].sum()
    none = {"counted": 0, "open_major": 0, "overdue": 0, "done": 0}
    per: dict[str, dict[str, int]] = {str(k): {str(c): int(v) for c, v in r.items()}
                                      for k, r in sums.to_dict("index").items()}
    found = findings if len(findings) else pd.DataFrame({"subject_type": [], "subject_key": [], "verdict": []})
    owners = _violation_owner(found, bundle["installations"], key_of)
    violations = owners[is_violation(found) & owners.notna()].value_counts()
    rows = []
    for i, key in enumerate(keys):
        got = per.get(key, none)
        total, done = got["counted"], got["done"]
        industry = text_or_none(_col(ents, "industry")[i])
        mhs = _col(ents, "mhs_grade")[i]
        rows.append({
            "key": key, "credit_code": credits[i], "name": text_or_none(_col(ents, "name")[i]),
            "adcode": text_or_none(_col(ents, "adcode")[i]), "industry": industry,
            "sector": ref.industry_of(industry) or "other",
            "risk_level": text_or_none(_col(ents, "risk_level")[i]),
            "mhs_grade": pd.NA if mhs is None or pd.isna(mhs) else int(mhs),
            "open_major_hazards": got["open_major"], "overdue_hazards": got["overdue"],
            "rectification_rate": round(done / total, 4) if total else None,
            "open_violations": int(violations.get(key, 0)),
            "hazards_total": total, "hazards_done": done,
        })
    columns = [*ID_COLUMNS, *INPUT_CODES, *COUNT_COLUMNS]
    out = pd.DataFrame(rows, columns=columns).astype({"mhs_grade": "Int64"})
    return out.sort_values("key", kind="stable").reset_index(drop=True)
