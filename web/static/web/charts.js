// Charts (ECharts): every element with data-chart or the vehicle page's #mileage.
(function () {
  "use strict";
  if (typeof echarts === "undefined") return;
  function money(v) { return "¥" + Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  var mileage = document.getElementById("mileage");
  if (mileage) {
    var points = JSON.parse(mileage.dataset.points || "[]");
    var chart = echarts.init(mileage);
    chart.setOption({
      grid: { left: 70, right: 20, top: 20, bottom: 40 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "time", axisLabel: { formatter: "{yyyy}-{MM}-{dd}" } },
      yAxis: { type: "value", name: mileage.dataset.label, axisLabel: { formatter: function (v) { return v.toLocaleString("en-US"); } } },
      series: [{ type: "line", data: points, symbolSize: 8, name: mileage.dataset.label }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var spec = JSON.parse(el.dataset.chart);
    var chart = echarts.init(el);
    var series = spec.series.map(function (s) {
      return { type: spec.type || "bar", name: s.name, data: s.data, stack: spec.stack ? "total" : undefined };
    });
    var horizontal = spec.horizontal;
    var cat = { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: horizontal ? 0 : (spec.categories.length > 8 ? 40 : 0) } };
    var val = { type: "value", axisLabel: { formatter: spec.money ? function (v) { return "¥" + v.toLocaleString("en-US"); } : null } };
    chart.setOption({
      grid: { left: horizontal ? 140 : 80, right: 20, top: 30, bottom: 60 },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: spec.money ? money : null },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? Object.assign(cat, { inverse: true }) : val,
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
