/* Chinese for the third-party map and table chrome that Dash components cannot be told about:
 * leaflet-draw's tooltips and buttons (L.drawLocal), Leaflet's zoom buttons, the DataTable's
 * case-sensitivity toggle, the number inputs' +/− buttons and the date picker's weekdays and buttons. The page language is the app's 中文/English switch (#lang-switch);
 * English keeps the libraries' own strings. Page text itself comes from dashboard/i18n.py. */
(function () {
  "use strict";

  function lang() {
    var checked = document.querySelector("#lang-switch input:checked");
    return checked && checked.value === "en" ? "en" : "zh";
  }

  var DRAW_ZH = {
    draw: {
      toolbar: {
        actions: {title: "取消绘制", text: "取消"},
        finish: {title: "完成绘制", text: "完成"},
        undo: {title: "删除最后一个点", text: "删除最后一点"},
        buttons: {polyline: "绘制折线", polygon: "绘制地块(多边形)", rectangle: "绘制地块(矩形)",
                  circle: "绘制圆", marker: "放置标记", circlemarker: "放置圆点"}
      },
      handlers: {
        circle: {tooltip: {start: "按住并拖动以绘制圆。"}, radius: "半径"},
        circlemarker: {tooltip: {start: "点击地图放置圆点。"}},
        marker: {tooltip: {start: "点击地图放置标记。"}},
        polygon: {tooltip: {start: "点击地图开始绘制地块。", cont: "继续点击添加拐点。",
                            end: "点击第一个点闭合地块。"}},
        polyline: {error: "<strong>错误：</strong>边线不能相交！",
                   tooltip: {start: "点击开始绘制线。", cont: "继续点击绘制线。", end: "点击最后一个点结束。"}},
        rectangle: {tooltip: {start: "按住并拖动以绘制矩形。"}},
        simpleshape: {tooltip: {end: "松开鼠标完成绘制。"}}
      }
    },
    edit: {
      toolbar: {
        actions: {save: {title: "保存修改", text: "保存"}, cancel: {title: "取消编辑，放弃全部修改", text: "取消"},
                  clearAll: {title: "清除全部地块", text: "全部清除"}},
        buttons: {edit: "编辑地块", editDisabled: "没有可编辑的地块", remove: "删除地块",
                  removeDisabled: "没有可删除的地块"}
      },
      handlers: {
        edit: {tooltip: {text: "拖动控制点编辑地块。", subtext: "点击“取消”撤销修改。"}},
        remove: {tooltip: {text: "点击要删除的地块。"}}
      }
    }
  };

  function merged(base, over) {
    var out = {};
    Object.keys(base || {}).forEach(function (k) { out[k] = base[k]; });
    Object.keys(over || {}).forEach(function (k) {
      var b = out[k], o = over[k];
      out[k] = (b && typeof b === "object" && o && typeof o === "object") ? merged(b, o) : o;
    });
    return out;
  }

  /* leaflet-draw assigns L.drawLocal when its chunk loads and reads it whenever it shows a string:
   * keep its English and hand out the Chinese while the page is in Chinese. */
  if (window.L && !Object.getOwnPropertyDescriptor(window.L, "drawLocal")) {
    var english = null, chinese = null;
    Object.defineProperty(window.L, "drawLocal", {
      configurable: true,
      get: function () { return lang() === "zh" && chinese ? chinese : english; },
      set: function (value) { english = value; chinese = merged(value, DRAW_ZH); }
    });
  }

  /* English tooltips and ARIA labels of library chrome and their Chinese, matched whole. */
  var PAIRS = [
    ["Zoom in", "放大"], ["Zoom out", "缩小"], ["Toggle filter case sensitivity", "切换是否区分大小写"],
    ["Decrease value", "减小"], ["Increase value", "增大"], ["Clear Dates", "清除日期"], ["Clear Date", "清除日期"],
    ["Previous month", "上个月"], ["Next month", "下个月"],
    ["A JavaScript library for interactive maps", "Leaflet 交互地图库"]
  ];
  /* Weekday headings of the date picker's calendar. */
  var WEEKDAYS = [["Mo", "一"], ["Tu", "二"], ["We", "三"], ["Th", "四"], ["Fr", "五"], ["Sa", "六"], ["Su", "日"]];

  function lookup(pairs, value, which) {
    for (var i = 0; i < pairs.length; i++) {
      if (value === pairs[i][0] || value === pairs[i][1]) { return pairs[i][which === "zh" ? 1 : 0]; }
    }
    return null;
  }

  function setTitle(el, text) {
    if (text && el.getAttribute("title") !== text) { el.setAttribute("title", text); }
  }

  /* Chrome drawn once by its library follows the language switch (it keeps the same map and toolbar). */
  function translateChrome() {
    var which = lang();
    document.querySelectorAll("[title], [aria-label]").forEach(function (el) {
      ["title", "aria-label"].forEach(function (attr) {
        var now = el.getAttribute(attr), want = now && lookup(PAIRS, now, which);
        if (want && want !== now) { el.setAttribute(attr, want); }
      });
    });
    document.querySelectorAll(".dash-datepicker-calendar-wrapper th span").forEach(function (span) {
      var node = span.firstChild, want = node && node.nodeType === 3 && lookup(WEEKDAYS, node.nodeValue, which);
      if (want && want !== node.nodeValue) { node.nodeValue = want; }  /* keep React's own text node */
    });
    var local = window.L && window.L.drawLocal;
    if (!local) { return; }
    document.querySelectorAll(".leaflet-draw-toolbar a").forEach(function (a) {
      var m = /leaflet-draw-(draw|edit)-(\w+)/.exec(a.className);
      if (!m) { return; }
      var buttons = local[m[1]].toolbar.buttons;
      var key = m[2] + (m[1] === "edit" && a.classList.contains("leaflet-disabled") ? "Disabled" : "");
      setTitle(a, buttons[key]);
    });
  }

  var pending = false;
  function schedule() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; translateChrome(); });
  }
  function start() {
    new MutationObserver(schedule).observe(document.body, {childList: true, subtree: true,
                                                           attributes: true, attributeFilter: ["class"]});
    document.addEventListener("change", schedule, true);
    schedule();
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }

  window.riskmapI18n = {lang: lang, translateChrome: translateChrome};
})();
