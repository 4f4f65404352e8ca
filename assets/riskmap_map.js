/* Map styling for RiskMap's dash-leaflet layers. Colours always come from the features'
 * properties (computed from layers/palette.py on the server); nothing here picks a colour.
 *
 * Severity order: a point feature may carry `pane` and `paneZ` (layers/palette.py level_pane): its
 * marker is drawn in that map pane, created on first use with that z-index, so 重大 red markers stay
 * above 较大, 一般 and 低 ones whatever order layers are added or redrawn in.
 *
 * Test handle: window.riskmapMaps maps each map's element id (e.g. "map", "planner-map",
 * "district-map") to its Leaflet map, so browser tests can read panes and project coordinates to
 * pixels without walking React internals. Nothing in the app reads it. */
window.riskmapMaps = window.riskmapMaps || {};
if (window.L && L.Map && L.Map.addInitHook) {
  L.Map.addInitHook(function () {
    var el = this.getContainer();
    if (el && el.id) { window.riskmapMaps[el.id] = this; }
  });
}

window.riskmap = Object.assign({}, window.riskmap, {
  /* The pane `name` of `map`, created with z-index `z` when missing. */
  ensurePane: function (map, name, z) {
    var pane = map.getPane(name) || map.createPane(name);
    if (z !== undefined && z !== null) { pane.style.zIndex = String(z); }
    return pane;
  },
  districtStyle: function (feature, context) {
    var p = feature.properties || {};
    var h = (context && context.hideout) || {};
    var fill = h.mode === "five" ? p.fill5 : p.fill4;
    var selected = h.selected && h.selected === p.adcode;
    return {color: selected ? "#111" : "#4A5560", weight: selected ? 3 : 1.2,
            fillColor: fill || "#F4F6F8", fillOpacity: h.mode === "five" ? 0.7 : 0.18};
  },
  lineStyle: function (feature) {
    var p = feature.properties || {};
    return {color: p.colour || "#555", weight: p.weight || 4, opacity: 0.95, dashArray: p.dash || null};
  },
  pointStyle: function (feature, latlng) {
    var p = feature.properties || {};
    var options = {radius: p.radius || 7, color: p.stroke || "#222", weight: 1,
                   fillColor: p.colour || "#888", fillOpacity: 0.95};
    if (p.pane) { options.pane = p.pane; }
    var marker = L.circleMarker(latlng, options);
    if (p.pane) {
      marker.beforeAdd = function (map) {
        window.riskmap.ensurePane(map, p.pane, p.paneZ);
        return L.CircleMarker.prototype.beforeAdd.call(this, map);
      };
    }
    return marker;
  }
});
