// Draw the dashboard charts with the vendored Chart.js. Progressive enhancement: each
// <canvas data-chart="KIND" data-src="URL" data-fallback="TABLE_ID" data-label="...">
// sits beside a plain HTML table that the page always renders. The script fetches the
// JSON at data-src and draws it; only once the chart has drawn does it hide the table
// (class visually-hidden, still read by screen readers) and mark the canvas data-rendered="true". If Chart.js is missing, the
// fetch fails or the JSON is malformed, the page stays as it was.
//
// Kinds and their JSON:
// - histogram: {"label": "...", "bins": [{"from": 0, "to": 10, "count": 3}, ...],
//               "cutoff": 72.5 | null, "cutoff_label": "..." | null}
//   Bar per bin; a dashed vertical line marks the cut-off, and bins wholly at or
//   above it are drawn in the primary colour, the rest in grey (all primary when
//   there is no cut-off).
// - stacked:   {"label": "...", "categories": ["...", ...],
//               "series": [{"name": "...", "values": [...]}, ...]}
//   Horizontal stacked bars, one per category.
// - scatter:   {"label": "...", "x_label": "...", "y_label": "...",
//               "x_min": 0, "x_max": 1, "y_min": -0.2, "y_max": 1,
//               "x_guides": [0.1, 0.9], "y_guides": [0, 0.2],
//               "points": [{"x": 0.5, "y": 0.31, "label": "...", "short": "3",
//                           "flagged": false}, ...]}
//   One dot per point, flagged ones in red (a second legend entry), each with its
//   "short" text beside it and its "label" in the tooltip; dashed grey lines at the
//   guide values. Bounds and guides are optional.
(function () {
  "use strict";

  const PRIMARY = "#0d6efd";
  const SECONDARY = "#adb5bd";
  const CUTOFF_COLOUR = "#dc3545";
  const SERIES_COLOURS = ["#198754", "#ffc107", "#dee2e6"];
  const EXTRA_COLOURS = ["#0d6efd", "#6f42c1", "#d63384", "#fd7e14", "#20c997", "#0dcaf0", "#6c757d"];

  function seriesColour(i) {
    if (i < SERIES_COLOURS.length) return SERIES_COLOURS[i];
    return EXTRA_COLOURS[(i - SERIES_COLOURS.length) % EXTRA_COLOURS.length];
  }

  function isNumber(x) {
    return typeof x === "number" && isFinite(x);
  }

  // 72.5 -> "72.5", 0.30000000000000004 -> "0.3".
  function fmt(n) {
    return String(Math.round(n * 100) / 100);
  }

  // Draws the cut-off line after the bars, so it sits on top of them. The x pixel is
  // found by linear interpolation inside the bin that contains the cut-off.
  function cutoffPlugin(bins, cutoff, label) {
    return {
      id: "quizappCutoff",
      afterDatasetsDraw(chart) {
        const xScale = chart.scales.x;
        const area = chart.chartArea;
        if (!xScale || !area || !bins.length) return;

        let i = bins.findIndex((b) => cutoff >= b.from && cutoff <= b.to);
        let frac;
        if (i >= 0) {
          const span = bins[i].to - bins[i].from;
          frac = span > 0 ? (cutoff - bins[i].from) / span : 0.5;
        } else if (cutoff < bins[0].from) {
          i = 0;
          frac = 0;
        } else {
          i = bins.length - 1;
          frac = 1;
        }

        const centre = xScale.getPixelForValue(i);
        const bar = chart.getDatasetMeta(0).data[i];
        let half = bar && isNumber(bar.width) ? bar.width / 2 : NaN;
        if (!isNumber(half)) {
          half = bins.length > 1
            ? Math.abs(xScale.getPixelForValue(1) - xScale.getPixelForValue(0)) / 2
            : (area.right - area.left) / 2;
        }
        const x = centre - half + frac * 2 * half;

        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = CUTOFF_COLOUR;
        ctx.lineWidth = 2;
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();

        const text = label || "Cut-off " + fmt(cutoff);
        ctx.setLineDash([]);
        ctx.font = "600 12px " + Chart.defaults.font.family;
        ctx.fillStyle = CUTOFF_COLOUR;
        ctx.textBaseline = "bottom";
        // Centred above the line, in the strip that layout.padding.top leaves free,
        // kept inside the canvas.
        const halfText = ctx.measureText(text).width / 2;
        const tx = Math.min(Math.max(x, halfText + 2), chart.width - halfText - 2);
        ctx.textAlign = "center";
        ctx.fillText(text, tx, area.top - 4);
        ctx.restore();
      },
    };
  }

  function histogramConfig(data) {
    const bins = data.bins;
    if (!Array.isArray(bins) || !bins.every((b) => b && isNumber(b.from) && isNumber(b.to) && isNumber(b.count))) {
      throw new Error("histogram: bad bins");
    }
    const cutoff = isNumber(data.cutoff) ? data.cutoff : null;
    const colours = bins.map((b) => (cutoff === null || b.from >= cutoff ? PRIMARY : SECONDARY));

    return {
      type: "bar",
      data: {
        labels: bins.map((b) => fmt(b.from) + "\u2013" + fmt(b.to)),
        datasets: [{
          label: "Candidates",
          data: bins.map((b) => b.count),
          backgroundColor: colours,
          borderColor: "#fff",
          borderWidth: 1,
          barPercentage: 1,
          categoryPercentage: 1,
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        layout: { padding: { top: cutoff !== null ? 20 : 0 } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => item.parsed.y + (item.parsed.y === 1 ? " candidate" : " candidates"),
            },
          },
        },
        scales: {
          x: {
            title: { display: !!data.label, text: data.label || "" },
            grid: { display: false },
          },
          y: {
            beginAtZero: true,
            ticks: { precision: 0 },
            title: { display: true, text: "Candidates" },
          },
        },
      },
      plugins: cutoff !== null ? [cutoffPlugin(bins, cutoff, data.cutoff_label)] : [],
    };
  }

  function stackedConfig(data) {
    const categories = data.categories;
    const series = data.series;
    if (!Array.isArray(categories) || !Array.isArray(series) ||
        !series.every((s) => s && Array.isArray(s.values))) {
      throw new Error("stacked: bad categories or series");
    }
    return {
      type: "bar",
      data: {
        labels: categories.map(String),
        datasets: series.map((s, i) => ({
          label: String(s.name),
          data: s.values,
          backgroundColor: seriesColour(i),
        })),
      },
      options: {
        indexAxis: "y",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom" },
        },
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: true, grid: { display: false } },
        },
      },
    };
  }

  const FLAGGED_COLOUR = "#dc3545";
  const GUIDE_COLOUR = "#6c757d";
  const POINT_LABEL_COLOUR = "#212529";

  function numbers(list) {
    return Array.isArray(list) ? list.filter(isNumber) : [];
  }

  // Guide lines under the dots, and each dot's short label beside it.
  function scatterPlugin(xGuides, yGuides) {
    return {
      id: "quizappScatter",
      beforeDatasetsDraw(chart) {
        const area = chart.chartArea;
        const ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = GUIDE_COLOUR;
        ctx.lineWidth = 1;
        ctx.setLineDash([5, 4]);
        const line = (x0, y0, x1, y1) => {
          ctx.beginPath();
          ctx.moveTo(x0, y0);
          ctx.lineTo(x1, y1);
          ctx.stroke();
        };
        xGuides.forEach((v) => {
          const x = chart.scales.x.getPixelForValue(v);
          if (x >= area.left && x <= area.right) line(x, area.top, x, area.bottom);
        });
        yGuides.forEach((v) => {
          const y = chart.scales.y.getPixelForValue(v);
          if (y >= area.top && y <= area.bottom) line(area.left, y, area.right, y);
        });
        ctx.restore();
      },
      afterDatasetsDraw(chart) {
        const ctx = chart.ctx;
        ctx.save();
        ctx.font = "600 11px " + Chart.defaults.font.family;
        ctx.fillStyle = POINT_LABEL_COLOUR;
        ctx.textBaseline = "bottom";
        chart.data.datasets.forEach((dataset, i) => {
          chart.getDatasetMeta(i).data.forEach((dot, j) => {
            const text = dataset.data[j].short;
            if (text) ctx.fillText(text, dot.x + 6, dot.y - 3);
          });
        });
        ctx.restore();
      },
    };
  }

  function scatterConfig(data) {
    const points = data.points;
    if (!Array.isArray(points) || !points.every((p) => p && isNumber(p.x) && isNumber(p.y))) {
      throw new Error("scatter: bad points");
    }
    const dataset = (label, list, colour) => ({
      label: label,
      data: list.map((p) => ({
        x: p.x,
        y: p.y,
        label: p.label == null ? "" : String(p.label),
        short: p.short == null ? "" : String(p.short),
      })),
      backgroundColor: colour,
      borderColor: colour,
      pointRadius: 5,
      pointHoverRadius: 7,
    });
    const datasets = [dataset("Questions", points.filter((p) => !p.flagged), PRIMARY)];
    const flagged = points.filter((p) => p.flagged);
    if (flagged.length) datasets.push(dataset("Flagged", flagged, FLAGGED_COLOUR));
    const bound = (v) => (isNumber(v) ? v : undefined);
    const axis = (title, min, max) => ({
      type: "linear",
      min: bound(min),
      max: bound(max),
      title: { display: !!title, text: title || "" },
    });
    return {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: (item) => (item.raw.label ? item.raw.label + ": " : "") +
                "(" + fmt(item.raw.x) + ", " + fmt(item.raw.y) + ")",
            },
          },
        },
        scales: {
          x: axis(data.x_label, data.x_min, data.x_max),
          y: axis(data.y_label, data.y_min, data.y_max),
        },
      },
      plugins: [scatterPlugin(numbers(data.x_guides), numbers(data.y_guides))],
    };
  }

  const BUILDERS = { histogram: histogramConfig, stacked: stackedConfig, scatter: scatterConfig };

  async function draw(canvas) {
    const build = BUILDERS[canvas.dataset.chart];
    const src = canvas.dataset.src;
    if (!build || !src) return;

    const response = await fetch(src, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(src + ": HTTP " + response.status);
    const config = build(await response.json());

    const old = Chart.getChart(canvas);
    if (old) old.destroy();
    canvas.setAttribute("role", "img");
    if (canvas.dataset.label) canvas.setAttribute("aria-label", canvas.dataset.label);
    new Chart(canvas, config); // animation: false, so it has drawn on return

    if (canvas.dataset.fallback) {
      const fallback = document.getElementById(canvas.dataset.fallback);
      if (fallback) fallback.classList.add("visually-hidden");
    }
    canvas.dataset.rendered = "true";
  }

  function drawAll(root) {
    if (typeof window.Chart === "undefined") return;
    const bodyFont = window.getComputedStyle(document.body).fontFamily;
    if (bodyFont) Chart.defaults.font.family = bodyFont;

    (root || document).querySelectorAll("canvas[data-chart][data-src]").forEach((canvas) => {
      if (canvas.dataset.rendered === "true" || canvas.dataset.drawing) return;
      canvas.dataset.drawing = "true";
      draw(canvas)
        .catch((err) => {
          // Leave the page as it was: no half-drawn chart claiming to be an image.
          const chart = Chart.getChart(canvas);
          if (chart) chart.destroy();
          canvas.removeAttribute("role");
          canvas.removeAttribute("aria-label");
          console.warn("charts.js: chart not drawn, table kept:", err);
        })
        .finally(() => { delete canvas.dataset.drawing; });
    });
  }

  window.quizappDrawCharts = drawAll;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => drawAll(document));
  } else {
    drawAll(document);
  }
})();
