// The dashboards' charts: <div data-chart="ID"> is drawn with ECharts (served from
// static/vendor) from the JSON in <script type="application/json" id="ID">; a click on a bar
// or point whose data item has a "url" opens that register. No inline script (CSP).
(function () {
  "use strict";
  // A category axis whose labels wrap ("overflow": "break") gets each bar's share of the width.
  function labelWidth(box, option) {
    var axis = option.xAxis;
    if (!axis || axis.type !== "category" || !axis.axisLabel || axis.axisLabel.overflow !== "break") return null;
    return Math.max(32, Math.floor((box.clientWidth - 48) / Math.max(1, axis.data.length)) - 8);
  }
  function draw() {
    if (!window.echarts) return;
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-chart"));
      if (!source) return;
      var option = JSON.parse(source.textContent);
      option.animation = false;
      var width = labelWidth(box, option);
      if (width) option.xAxis.axisLabel.width = width;
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(option);
      chart.on("click", function (params) {
        if (params.data && params.data.url) window.location.href = params.data.url;
      });
      charts.push({ chart: chart, box: box, option: option });
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) {
        var width = labelWidth(c.box, c.option);
        if (width) c.chart.setOption({ xAxis: { axisLabel: { width: width } } });
        c.chart.resize();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
