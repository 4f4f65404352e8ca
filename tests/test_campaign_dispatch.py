"""The monthly 调度表: figures from hazard histories as of the cut-off, and the XLSX read back."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from campaign.dispatch import cutoff_of, dispatch_table, load_dispatch
from campaign.dispatch_sheet import dispatch_xlsx
from campaign.reference import load_reference

CST = dt.timezone(dt.timedelta(hours=8))


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=CST)


# Eight hazards of one district. Each history step: (hazard, local time, state after, severity, supervised).
HAZARDS = pd.DataFrame({
    "code": ["H1", "H2", "H3", "H4", "H5", "H6", "H7", "H8"],
    "source": ["self_check", "self_check", "department", "expert", "public", "department", "self_check", "government"],
})


def _s(hazard: str, day: str, state: str, severity: str = "major", *, sup: bool = False,
       hour: int = 10) -> tuple[str, dt.datetime, str, str, bool]:
    return hazard, _at(day, hour), state, severity, sup


STEPS = pd.DataFrame([
    _s("H1", "2026-09-03", "reported"), _s("H1", "2026-09-05", "verified"),
    _s("H1", "2026-09-10", "rectifying"), _s("H1", "2026-10-20", "awaiting_review"),
    _s("H1", "2026-10-25", "awaiting_acceptance"), _s("H1", "2026-11-02", "closed"),
    _s("H2", "2026-10-01", "reported"), _s("H2", "2026-10-02", "verified"),
    _s("H2", "2026-10-03", "rectifying"),
    _s("H3", "2026-09-15", "reported"), _s("H3", "2026-09-16", "verified"),
    _s("H3", "2026-09-20", "rectifying", sup=True), _s("H3", "2026-11-30", "awaiting_acceptance", sup=True, hour=23),
    # H4 moves on the first day of December (local time): not counted as rectified in the December table.
    _s("H4", "2026-10-10", "reported"), _s("H4", "2026-10-11", "verified", sup=True),
    _s("H4", "2026-10-12", "rectifying", sup=True), _s("H4", "2026-12-01", "awaiting_acceptance", sup=True, hour=0),
    _s("H5", "2026-10-05", "reported", "general"), _s("H5", "2026-10-06", "closed", "general"),
    _s("H6", "2026-11-05", "reported"), _s("H6", "2026-11-06", "withdrawn"),
    # H7 is reported in December: not in the December table at all.
    _s("H7", "2026-12-02", "reported"),
    # H8 was reported as general, re-graded major on verification.
    _s("H8", "2026-11-10", "reported", "general"), _s("H8", "2026-11-11", "verified"),
], columns=["hazard", "at", "to_state", "severity", "supervised"])
ITEMS = list(load_reference().spot_check_items)
SPOTS = pd.DataFrame([
    {"enterprise": "E1", "checked_on": dt.date(2026, 10, 9), **{k: k == ITEMS[0] for k in ITEMS}},
    {"enterprise": "E1", "checked_on": dt.date(2026, 11, 9), **{k: k in ITEMS[:2] for k in ITEMS}},
    {"enterprise": "E2", "checked_on": dt.date(2026, 11, 20), **{k: k == ITEMS[4] for k in ITEMS}},
    {"enterprise": "E3", "checked_on": dt.date(2026, 12, 1), **dict.fromkeys(ITEMS, True)},
])


def _by_hand(period: str) -> dict[str, int]:
    """The figures counted from the rows above with plain loops, independently of the module."""
    cutoff_end = dt.datetime.fromisoformat(period + "-01").replace(tzinfo=CST)
    last: dict[str, tuple[str, str, bool]] = {}
    for h, at, state, sev, sup in STEPS.itertuples(index=False):
        if at < cutoff_end:
            last[h] = (state, sev, sup)
    source = dict(zip(HAZARDS["code"], HAZARDS["source"], strict=True))
    out = dict.fromkeys(["self_found", "self_rectified", "inspection_found", "inspection_rectified",
                         "supervised_found", "supervised_rectified"], 0)
    for h, (state, sev, sup) in last.items():
        if sev != "major" or state == "withdrawn":
            continue
        kind = "self" if source[h] == "self_check" else "inspection"
        done = state in ("awaiting_acceptance", "closed")
        out[f"{kind}_found"] += 1
        out[f"{kind}_rectified"] += done
        out["supervised_found"] += sup
        out["supervised_rectified"] += sup and done
    seen: dict[str, set[str]] = {"spot_total": set(), **{k: set() for k in ITEMS}}
    for rec in SPOTS.to_dict("records"):
        if rec["checked_on"] < cutoff_end.date():
            seen["spot_total"].add(rec["enterprise"])
            for k in ITEMS:
                if rec[k]:
                    seen[k].add(rec["enterprise"])
    out.update({k: len(v) for k, v in seen.items()})
    return out


@pytest.mark.parametrize("period", ["2026-10", "2026-11", "2026-12", "2027-01"])
def test_figures_equal_the_rows_counted_by_hand(period: str) -> None:
    table = dispatch_table(HAZARDS, STEPS, SPOTS, unit="安宁市", period=period)
    assert table.figures() == _by_hand(period)


def test_december_figures_spelled_out() -> None:
    f = dispatch_table(HAZARDS, STEPS, SPOTS, unit="安宁市", period="2026-12").figures()
    # H1 closed, H2 rectifying (self); H3 awaiting acceptance on 11-30 23:00, H4 rectifying, H8 verified major
    assert (f["self_found"], f["self_rectified"]) == (2, 1)
    assert (f["inspection_found"], f["inspection_rectified"]) == (3, 1)
    assert (f["supervised_found"], f["supervised_rectified"]) == (2, 1)
    assert f["spot_total"] == 2 and f[ITEMS[0]] == 1 and f[ITEMS[1]] == 1 and f[ITEMS[4]] == 1 and f[ITEMS[6]] == 0


def test_the_xlsx_holds_the_same_figures_in_the_annex_layout() -> None:
    table = dispatch_table(HAZARDS, STEPS, SPOTS, unit="=HYPERLINK(\"http://x\",\"点击\")", period="2026-12")
    wb = openpyxl.load_workbook(io.BytesIO(dispatch_xlsx(table, issued_on=dt.date(2026, 12, 6))))
    ws = wb["调度表"]
    assert ws["A1"].value == load_dispatch().title.zh
    assert ws["A2"].data_type == "s" and ws["A2"].value.startswith("填报单位：=HYPERLINK")
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert ws["B2"].value == "统计截至：2026-11-30（累计）"
    read = {ws[f"B{r}"].value: ws[f"C{r}"].value for r in range(5, 11)}
    expected = _by_hand("2026-12")
    rows = load_dispatch().hazard_rows
    assert [ws[f"A{r}"].value for r in range(5, 11)] == [1, 2, 3, 4, 5, 6]
    assert [ws[f"C{r}"].value for r in range(5, 11)] == [expected[row.code] for row in rows]
    assert read["企业自查发现的重大事故隐患（个）"] == 2
    labels = [ws[f"B{r}"].value for r in range(1, ws.max_row + 1)]
    start = labels.index(load_dispatch().spot_check_total.zh) + 1
    assert ws[f"C{start}"].value == expected["spot_total"]
    for offset, (code, label) in enumerate(load_reference().spot_check_items.items(), start=1):
        assert ws[f"B{start + offset}"].value == label.zh
        assert ws[f"C{start + offset}"].value == expected[code]


def test_bad_period_and_unknown_source_are_refused() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        cutoff_of("2026/12")
    bad = HAZARDS.assign(source=["self_check"] * 7 + ["rumour"])
    with pytest.raises(ValueError, match="rumour"):
        dispatch_table(bad, STEPS, SPOTS, unit="x", period="2026-12")
