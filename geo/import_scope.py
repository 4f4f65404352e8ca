"""District scope at import time: a district officer imports only rows of their own district.

Row-level security in PostgreSQL refuses another district's rows anyway and stays the
backstop, but in its own words and only when writing. This check runs right after
validation (so the import preview shows it too) and turns each such row into an
ordinary :class:`~geo.validate.Issue` naming file, row and field: without
``skip_invalid`` nothing is written, with it the row goes to the reject file.

District boundaries themselves may only be changed by city-wide accounts, and so may a stored
pipeline that crosses other districts than the officer's (re-importing its key would change its
route, diameter or pressure there too).

Every account, city-wide ones included, may link a plant part (layer ``installations``) only to an
enterprise of the part's own district (:func:`refuse_foreign_links`): otherwise the part would be
counted in another district's plant (its MHS grade, its boundary).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from geo.layer_specs import LayerSpec
from geo.readers import RawTable
from geo.store import Scope
from geo.validate import FILE_ROW, GEOMETRY_FIELD, Issue, Validated

#: Field label of the adcode when the file has no such column of its own.
ADCODE_FIELD = "行政区划代码(adcode)"


def restrict_to_scope(raw: RawTable, spec: LayerSpec, result: Validated, scope: Scope | None,
                      names: Mapping[str, str], stored_pipelines: Mapping[str, Sequence[str]] | None = None,
                      ) -> Validated:
    """Refuse the rows of ``result`` that lie outside ``scope``'s district.

    Parameters
    ----------
    raw : RawTable
        The rows as read (row labels, the file's own headers, raw district codes).
    spec : LayerSpec
        Target layer.
    result : Validated
        Validation result of ``raw``.
    scope : Scope or None
        The importing account's scope; None (e.g. the command line as database owner) and
        city-wide scopes are not restricted.
    names : mapping
        District names by adcode, for the messages.
    stored_pipelines : mapping, optional
        For layer ``pipelines``: the stored ``adcodes`` of the file's keys already in the store
        (:func:`geo.store.pipeline_districts`). A stored pipeline whose districts are not exactly
        the officer's own is refused; a new key needs only to cross the officer's district.

    Returns
    -------
    Validated
        ``result`` itself when nothing is refused; otherwise a copy in which each foreign row
        is rejected with an issue, or, for a layer the account may not change at all, a
        file-level error (row :data:`~geo.validate.FILE_ROW`) and no records.
    """
    if scope is None or scope.all_districts:
        return result
    file = raw.path.name
    own = scope.adcode
    if not own:
        issue = Issue(file, FILE_ROW, "图层(layer)", "本账号未指定辖区，不能导入数据",
                      "your account has no district, so it cannot import data")
        return Validated([], [], {}, [issue, *result.issues], result.source_crs)
    mine = _named(own, names)
    if spec.name == "districts":
        issue = Issue(file, FILE_ROW, "图层(layer)",
                      f"只有全市账号可以修改行政区划；本账号辖区为 {mine}",
                      f"only city-wide accounts may change district boundaries; your district is {mine}")
        return Validated([], [], {}, [issue, *result.issues], result.source_crs)

    has_adcode = "adcode" in {f.name for f in spec.fields}
    adcode_field = raw.headers.get("adcode") or ADCODE_FIELD
    by_row = dict(zip(result.record_rows, result.records, strict=True))
    refused: dict[int, Issue] = {}
    for i, label in enumerate(raw.row_labels):
        rec = by_row.get(i)
        if has_adcode:
            code = rec.get("adcode") if rec is not None else _raw_adcode(raw, i)
            if code is None or str(code) == own or (rec is None and code not in names):
                continue  # (an unknown code of a rejected row is reported by validation already)
            theirs = _named(str(code), names)
            refused[i] = Issue(file, label, adcode_field, f"该行属于 {theirs}，不在本账号辖区 {mine}内",
                               f"row belongs to {theirs}, outside your district {mine}")
        elif rec is not None and "adcodes" in rec:  # pipelines: the districts crossed, from the geometry
            stored = (stored_pipelines or {}).get(str(rec.get("key")))
            if stored is not None and list(stored) != [own]:
                refused[i] = _shared_pipeline(file, label, stored, names)
                continue
            crossed = [str(c) for c in rec["adcodes"] or []]
            if own in crossed:
                continue
            if crossed:
                theirs_zh = "、".join(_named(c, names) for c in crossed)
                theirs_en = ", ".join(_named(c, names) for c in crossed)
                zh = f"该管道经过 {theirs_zh}，不经过本账号辖区 {mine}"
                en = f"pipeline crosses {theirs_en}, not your district {mine}"
            else:
                zh, en = f"该管道不经过本账号辖区 {mine}", f"pipeline does not cross your district {mine}"
            refused[i] = Issue(file, label, GEOMETRY_FIELD, zh, en)
    return _with_issues(raw, result, refused)


def refuse_foreign_links(raw: RawTable, spec: LayerSpec, result: Validated, enterprise_adcodes: Mapping[str, str],
                         names: Mapping[str, str]) -> Validated:
    """Refuse plant parts linked to an enterprise of another district; warn about unknown enterprises.

    Applies to every account (city-wide ones and the command line too): a part of district A
    linked to an enterprise stored in district B would be counted in B's plant.

    Parameters
    ----------
    raw : RawTable
        The rows as read (row labels, the file's own headers).
    spec : LayerSpec
        Target layer; only ``installations`` is checked.
    result : Validated
        Validation (and scope) result of ``raw``.
    enterprise_adcodes : mapping
        District of each stored enterprise linked from the file (:func:`geo.store.enterprise_districts`).
    names : mapping
        District names by adcode, for the messages.

    Returns
    -------
    Validated
        ``result`` itself when nothing is to be said; otherwise a copy in which each part linked to
        another district's enterprise is rejected with an error, and each part linked to an
        enterprise not in the store carries a warning (and is kept).
    """
    if spec.name != "installations":
        return result
    file = raw.path.name
    field = raw.headers.get("enterprise_credit_code") or "企业统一社会信用代码(enterprise_credit_code)"
    added: dict[int, Issue] = {}
    for rec, i in zip(result.records, result.record_rows, strict=True):
        code = str(rec.get("enterprise_credit_code") or "")
        if not code:
            continue
        label, own = raw.row_labels[i], str(rec.get("adcode") or "")
        theirs = enterprise_adcodes.get(code)
        if theirs is None:
            added[i] = Issue(file, label, field, f"企业图层中没有统一社会信用代码为“{code}”的企业",
                             f"no enterprise with credit code {code} in the enterprises layer", "warning")
        elif own and theirs != own:
            t, o = _named(theirs, names), _named(own, names)
            added[i] = Issue(file, label, field, f"所属企业“{code}”属于 {t}，与本行的 {o}不同",
                             f"the enterprise {code} belongs to {t}, not to this row's district {o}")
    return _with_issues(raw, result, added)


def refuse_foreign_enterprises(raw: RawTable, spec: LayerSpec, result: Validated,
                               enterprise_adcodes: Mapping[str, str], names: Mapping[str, str]) -> Validated:
    """Refuse, in a district account's import, enterprise rows whose credit code is stored in another district.

    Without this the database refuses the whole file with its raw row-level-security error (#15);
    here the row is named with its file, row and field.

    Parameters
    ----------
    raw : RawTable
        The rows as read.
    spec : LayerSpec
        Target layer; only ``enterprises`` is checked.
    result : Validated
        Validation (and scope) result of ``raw``.
    enterprise_adcodes : mapping
        District of each stored enterprise among the file's credit codes (:func:`geo.store.enterprise_districts`).
    names : mapping
        District names by adcode, for the messages.

    Returns
    -------
    Validated
        ``result``, or a copy in which each such row is rejected.
    """
    if spec.name != "enterprises":
        return result
    file = raw.path.name
    field = raw.headers.get("credit_code") or "统一社会信用代码(credit_code)"
    added: dict[int, Issue] = {}
    for rec, i in zip(result.records, result.record_rows, strict=True):
        code = str(rec.get("credit_code") or "")
        theirs = enterprise_adcodes.get(code) if code else None
        if theirs is not None and theirs != str(rec.get("adcode") or ""):
            added[i] = Issue(file, raw.row_labels[i], field,
                             f"统一社会信用代码“{code}”的企业不属于本区县，只能由其所属区县或市级账号修改",
                             f"the enterprise with credit code {code} does not belong to your district; only its "
                             f"district or a city-wide account may change it")
    return _with_issues(raw, result, added)


def _shared_pipeline(file: str, label: str, stored: Sequence[str], names: Mapping[str, str]) -> Issue:
    if len(stored) > 1:
        zh_list = "、".join(_named(c, names) for c in stored)
        en_list = ", ".join(_named(c, names) for c in stored)
        return Issue(file, label, GEOMETRY_FIELD, f"该管道经过多个区县({zh_list})，只能由市级账号修改",
                     f"this pipeline crosses several districts ({en_list}); only a city-wide account may change it")
    where = _named(stored[0], names) if stored else "-"
    return Issue(file, label, GEOMETRY_FIELD, f"该管道已登记在 {where}，只能由市级账号修改",
                 f"this pipeline is stored in {where}; only a city-wide account may change it")


def _with_issues(raw: RawTable, result: Validated, added: dict[int, Issue]) -> Validated:
    """Add ``added`` issues by row index to ``result``: an error rejects its row, a warning keeps it."""
    if not added:
        return result
    refused = {i for i, issue in added.items() if issue.severity == "error"}
    records, record_rows = [], []
    for rec, i in zip(result.records, result.record_rows, strict=True):
        if i not in refused:
            records.append(rec)
            record_rows.append(i)
    rejected = dict(result.rejected_rows)
    for i in refused:
        rejected[i] = [*rejected.get(i, []), added[i]]
    return Validated(records, record_rows, dict(sorted(rejected.items())),
                     _in_row_order(raw, result.issues, added), result.source_crs)


def _named(code: str, names: Mapping[str, str]) -> str:
    name = names.get(code)
    return f"{code} {name}" if name else code


def _raw_adcode(raw: RawTable, i: int) -> str | None:
    """Return the district code of a row that failed validation, when it is readable at all."""
    if "adcode" not in raw.frame.columns:
        return None
    value = raw.frame["adcode"].iat[i]
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text if re.fullmatch(r"\d{6}", text) else None


def _in_row_order(raw: RawTable, issues: list[Issue], added: dict[int, Issue]) -> list[Issue]:
    """``issues`` with each added issue placed after the other issues of its row."""
    labels = set(raw.row_labels)
    by_label: dict[str, list[Issue]] = {}
    head: list[Issue] = []
    for issue in issues:
        if issue.row in labels:
            by_label.setdefault(issue.row, []).append(issue)
        else:
            head.append(issue)
    out = head
    for i, label in enumerate(raw.row_labels):
        out.extend(by_label.pop(label, []))
        if i in added:
            out.append(added[i])
    return out
