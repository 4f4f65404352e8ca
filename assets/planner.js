/* Planner page (规划审查) map helpers. Colours come from the features' properties (layers/palette.py). */
window.rmPlanner = Object.assign({}, window.rmPlanner, {
  /* A finding dot that keeps its click to itself: selecting a finding never also picks a pre-check site. */
  findingPoint: function (feature, latlng) {
    var p = feature.properties || {};
    return L.circleMarker(latlng, {radius: p.radius || 5, color: "#FFFFFF", weight: 1.5,
                                   fillColor: p.colour || "#111111", fillOpacity: 0.9,
                                   bubblingMouseEvents: false});
  }
});
