/* Charts of the dashboard, drawn by Chart.js (vendor/chartjs) from data the page embeds with json_script.
 *
 * A chart is a <canvas data-chart-source="ID"> where ID is the <script type="application/json"> holding
 * {"labels": [...], "series": [{"label": ..., "data": [...]}, ...]}; data-x-title and data-y-title name the
 * axes, in the page's language. Nothing here runs inline, so a Content-Security-Policy of script-src 'self'
 * holds. The data table beside each chart stays the accessible reading of the same figures.
 */
(function () {
  "use strict";

  var PALETTE = ["#0f5e8c", "#2f8f5b", "#c9871f", "#7b57b5", "#c4544a", "#3a93b8", "#66707d", "#a3628f"];

  function total(items) {
    var sum = 0;
    items.forEach(function (item) { sum += item.parsed.y || 0; });
    return sum.toLocaleString(document.documentElement.lang || undefined);
  }

  function draw(canvas) {
    if (canvas.dataset.chartReady || typeof window.Chart === "undefined") {
      return;
    }
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var totalLabel = canvas.dataset.totalLabel || "";
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.data,
            backgroundColor: PALETTE[index % PALETTE.length],
            stack: "all",
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, title: { display: !!canvas.dataset.xTitle, text: canvas.dataset.xTitle } },
          y: {
            stacked: true,
            beginAtZero: true,
            ticks: { precision: 0 },
            title: { display: !!canvas.dataset.yTitle, text: canvas.dataset.yTitle },
          },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              footer: function (items) { return totalLabel + " " + total(items); },
            },
          },
        },
      },
    });
    canvas.dataset.chartReady = "true";
    canvas.chart = chart;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart-source]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // Content htmx swaps in may hold a chart too.
  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
})();
