/* Map styling for RiskMap's dash-leaflet layers. Colours always come from the features'
 * properties (computed from layers/palette.py on the server); nothing here picks a colour. */
window.riskmap = Object.assign({}, window.riskmap, {
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
    return L.circleMarker(latlng, {radius: p.radius || 7, color: p.stroke || "#222", weight: 1,
                                   fillColor: p.colour || "#888", fillOpacity: 0.95});
  }
});
