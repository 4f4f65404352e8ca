"""The district chooser: the districts' names and the dropdown that opens one's workspace."""

from __future__ import annotations

from dash import dcc

from dashboard.i18n import dropdown_labels, t
from dashboard.pages.district.page_ids import DISTRICT_CHOOSER
from layers.city import CitySnapshot


def _district_names(snap: CitySnapshot) -> dict[str, str]:
    d = snap.bundle["districts"]
    return {str(a): str(n) for a, n in zip(d["adcode"], d["name"], strict=True)}


def _chooser(snap: CitySnapshot, adcode: str | None, lang: str) -> dcc.Dropdown:
    names = _district_names(snap)
    order = sorted(names)
    return dcc.Dropdown(id=DISTRICT_CHOOSER, value=adcode, clearable=False, searchable=True,
                        placeholder=t("choose", lang), className="district-chooser", labels=dropdown_labels(lang),
                        options=[{"label": f"{names[a]}（{a}）" if lang == "zh" else f"{names[a]} ({a})", "value": a}
                                 for a in order])
