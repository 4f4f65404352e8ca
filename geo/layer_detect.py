"""Tell which layer a file holds from its headers, so that a file chosen for the wrong layer says so.

Every layer spec is scored by how many of its required columns the headers supply (and, to
break ties, how many of the file's headers it recognises). An enterprise table chosen as
重大风险点 then fails with "这看起来是企业表，当前选择的是重大风险点" instead of a bare
"缺少必填列“编号”".
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.layer_specs import LAYERS, LayerSpec
from geo.readers import RawTable, header_map

#: A guess must supply at least this share of a layer's required columns to be named.
MIN_REQUIRED_SHARE = 0.6


@dataclass(frozen=True)
class LayerGuess:
    """How well a file's headers fit one layer."""

    layer: str
    required_found: int
    required_total: int
    recognised: int
    headers: int

    @property
    def score(self) -> tuple[float, float]:
        """Share of required columns found, then share of the file's headers recognised."""
        req = self.required_found / self.required_total if self.required_total else 0.0
        return (req, self.recognised / self.headers if self.headers else 0.0)


def file_headers(raw: RawTable) -> list[str]:
    """Return the headers of a read file as the file wrote them (geometry and coordinates included).

    Parameters
    ----------
    raw : RawTable
        A file read for any layer.

    Returns
    -------
    list of str
    """
    return [raw.headers.get(str(c), str(c)) for c in raw.frame.columns]


def rank_layers(headers: list[str], layers: list[str] | None = None) -> list[LayerGuess]:
    """Score every layer (or ``layers``) against ``headers``, best first.

    Parameters
    ----------
    headers : list of str
        Column names as in the file.
    layers : list of str, optional
        Layer names to consider (default: every layer).

    Returns
    -------
    list of LayerGuess

    Examples
    --------
    >>> rank_layers(["统一社会信用代码", "企业名称", "行政区划代码", "行业", "风险等级", "经度", "纬度"])[0].layer
    'enterprises'
    """
    guesses = []
    for name in layers or list(LAYERS):
        spec: LayerSpec = LAYERS[name]
        mapping, _ = header_map(spec, headers)
        found = set(mapping.values()) - {"lon", "lat"}
        required = [f.name for f in spec.fields if f.required]
        guesses.append(LayerGuess(name, len(found & set(required)), len(required), len(found),
                                  len([h for h in headers if h])))
    return sorted(guesses, key=lambda g: g.score, reverse=True)


def likely_layer(headers: list[str], layers: list[str] | None = None) -> str | None:
    """Return the layer ``headers`` most likely belong to (None: no layer fits well, or two fit equally).

    Parameters
    ----------
    headers : list of str
        Column names as in the file.
    layers : list of str, optional
        Layer names to consider.

    Returns
    -------
    str or None
    """
    ranked = rank_layers(headers, layers)
    if not ranked or ranked[0].score[0] < MIN_REQUIRED_SHARE:
        return None
    if len(ranked) > 1 and ranked[1].score == ranked[0].score:
        return None
    return ranked[0].layer


def wrong_layer_message(chosen: str, likely: str) -> tuple[str, str]:
    """Return the Chinese and English sentence naming the likely layer of a file chosen for another.

    Examples
    --------
    >>> wrong_layer_message("risk_points", "enterprises")[0]
    '这看起来是企业表，当前选择的是重大风险点(4张清单)；请确认图层是否选对'
    """
    a, b = LAYERS[likely], LAYERS[chosen]
    return (f"这看起来是{a.zh}表，当前选择的是{b.zh}；请确认图层是否选对",
            f"this looks like a {a.en} table ({a.name}), but the layer chosen is {b.en} ({b.name}); "
            "check the layer")
