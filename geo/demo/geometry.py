"""Small shape helpers of the demo generator, all in EPSG:4543 metres."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon


def rect(cx: float, cy: float, w: float, h: float, angle: float) -> Polygon:
    """Return a ``w`` × ``h`` rectangle centred on (cx, cy), rotated by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)
    corners = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners])


def shape_factor(rng: np.random.Generator, irregularity: float) -> Callable[[np.ndarray], np.ndarray]:
    """Return a random smooth radial factor f(θ) ≈ 1 ± ``irregularity`` (always > 0.5)."""
    amps = rng.uniform(0.3, 1.0, 3) * irregularity / 2.3
    phases = rng.uniform(0.0, 2 * math.pi, 3)

    def f(theta: np.ndarray) -> np.ndarray:
        out = np.ones_like(theta)
        for k, (a, p) in enumerate(zip(amps, phases, strict=True)):
            out += a * np.cos((k + 2) * theta + p)
        return out

    return f


def blob(cx: float, cy: float, rx: float, ry: float, angle: float,
         f: Callable[[np.ndarray], np.ndarray], n: int = 64) -> Polygon:
    """Return an irregular ellipse: semi-axes ``rx``/``ry`` rotated by ``angle``, radius scaled by ``f``."""
    th = np.linspace(0.0, 2 * math.pi, n, endpoint=False)
    k = f(th)
    x, y = rx * np.cos(th) * k, ry * np.sin(th) * k
    c, s = math.cos(angle), math.sin(angle)
    return Polygon(np.column_stack([cx + x * c - y * s, cy + x * s + y * c]))


def frame_at(line: LineString, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the point, unit tangent and unit left normal of ``line`` at chainage ``s``."""
    s = min(max(s, 0.0), line.length)
    a = np.asarray(line.interpolate(max(s - 15.0, 0.0)).coords[0])
    b = np.asarray(line.interpolate(min(s + 15.0, line.length)).coords[0])
    p = np.asarray(line.interpolate(s).coords[0])
    t = (b - a) / np.hypot(*(b - a))
    return p, t, np.array([-t[1], t[0]])


def wiggle(line: LineString, rng: np.random.Generator, amp: float, step: float = 100.0) -> LineString:
    """Densify ``line`` to ``step`` metres and offset it sideways by smooth noise of ``amp`` m."""
    xy = shapely.get_coordinates(shapely.segmentize(line, step))
    d = np.diff(xy, axis=0)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    tan = np.empty_like(xy)
    tan[1:-1] = xy[2:] - xy[:-2]
    tan[0], tan[-1] = xy[1] - xy[0], xy[-1] - xy[-2]
    tan /= np.hypot(tan[:, 0], tan[:, 1])[:, None]
    nrm = np.column_stack([-tan[:, 1], tan[:, 0]])
    off = np.zeros(len(s))
    for wavelength, weight in ((9000.0, 0.5), (4000.0, 0.3), (1700.0, 0.2)):
        off += weight * np.sin(2 * math.pi * s / wavelength + rng.uniform(0, 2 * math.pi))
    off *= amp * np.clip(np.minimum(s, s[-1] - s) / 800.0, 0.0, 1.0)
    return LineString(xy + nrm * off[:, None])


def place_at_distance(line: LineString, s: float, side: float, target: float,
                      w: float, h: float) -> Polygon:
    """Return a rectangle beside ``line`` at chainage ``s`` whose edge is ``target`` m from it."""
    p, t, n = frame_at(line, s)
    angle = math.atan2(t[1], t[0])
    if target <= 0.0:
        return rect(p[0], p[1], w, h, angle)
    c = p + n * side * (target + h / 2)
    poly = rect(c[0], c[1], w, h, angle)
    for _ in range(8):
        gap = target - poly.distance(line)
        if abs(gap) < 0.005:
            break
        c = c + n * side * gap
        poly = rect(c[0], c[1], w, h, angle)
    return poly
