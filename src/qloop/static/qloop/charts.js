// The dashboards' charts: <div data-chart="ID"> is drawn with ECharts (served from
// static/vendor) from the JSON in <script type="application/json" id="ID">; a click on a bar
// or point whose data item has a "url" opens that register. No inline script (CSP).
(function () {
  "use strict";
  function draw() {
    if (!window.echarts) return;
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-chart"));
      if (!source) return;
      var option = JSON.parse(source.textContent);
      option.animation = false;
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(option);
      chart.on("click", function (params) {
        if (params.data && params.data.url) window.location.href = params.data.url;
      });
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
