// The yearly summary's charts: monthly sales and PNBP per facility, from the JSON the page carries.
(function () {
  "use strict";
  var source = document.getElementById("summary-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#7a4b2a", "#2f6f4e", "#b5651d", "#3b5b92", "#8c2f39", "#5c7f2b", "#9a6fb0", "#c49a2c", "#2d8a8a",
                 "#6b6b6b"];
  var money = new Intl.NumberFormat(data.locale, { style: "currency", currency: "IDR", maximumFractionDigits: 0 });

  function draw(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: series.map(function (item, index) {
          return { label: item.label, data: item.data, backgroundColor: palette[index % palette.length] };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, ticks: { callback: function (v) { return money.format(v); } } } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + money.format(c.parsed.y); } } }
        }
      }
    });
  }
  draw("chart-sales", data.sales);
  draw("chart-pnbp", data.pnbp);
})();
