"use strict";
// Plot building blocks: uPlot line/point charts, error bars, and canvas heat maps.
// Labels from Kafka (antenna, polarisation, baseline names) are drawn on canvas or set by
// uPlot through textContent: never parsed as HTML.
const charts = (() => {
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const HEIGHT = 260;

  function widthOf(node) {
    return Math.max(320, (node.clientWidth || 600) - 16);
  }

  // A card: title, optional controls, a body; counts its redraws in data-updates.
  function card(id, title) {
    const root = dq.el("div", { class: "card", "data-plot": id, "data-updates": "0" }, dq.el("h3", { text: title }));
    const controls = dq.el("div", { class: "controls" });
    const body = dq.el("div", { class: "body" });
    root.append(controls, body);
    return {
      root, controls, body,
      drew() { root.dataset.updates = String(Number(root.dataset.updates) + 1); },
    };
  }

  function errorBars(errors) {
    // errors(): {seriesIndex: [std per point]}; whiskers drawn in the series' colour.
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.lineWidth = 1;
          for (const [index, stds] of Object.entries(errors())) {
            const series = u.series[index];
            if (!series || !series.show || !stds) continue;
            ctx.strokeStyle = COLOURS[(index - 1) % COLOURS.length];
            const xs = u.data[0], ys = u.data[index];
            ctx.beginPath();
            for (let i = 0; i < xs.length; i++) {
              const y = ys[i], e = stds[i];
              if (y === null || e === null || e === undefined) continue;
              const x = u.valToPos(xs[i], "x", true);
              ctx.moveTo(x, u.valToPos(y - e, "y", true));
              ctx.lineTo(x, u.valToPos(y + e, "y", true));
            }
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
  }

  // A uPlot chart. series: [{label, points?: true (no line)}]; xValues(u, splits) labels x.
  function plot(parent, series, options = {}) {
    const opts = {
      width: widthOf(parent),
      height: HEIGHT,
      scales: { x: { time: !!options.time } },
      legend: { live: false },
      cursor: { drag: { x: true, y: false } },
      plugins: options.plugins || [],
      axes: [
        { label: options.xLabel || "", values: options.xValues },
        { label: options.yLabel || "", size: 60 },
      ],
      series: [{}].concat(series.map((s, i) => ({
        label: s.label,
        stroke: s.colour || COLOURS[i % COLOURS.length],
        width: 1,
        spanGaps: false,
        paths: s.points ? () => null : undefined,
        points: s.points ? { show: true, size: s.size || 5, fill: s.fill || COLOURS[i % COLOURS.length] } : { show: false },
      }))),
    };
    const empty = [[]].concat(series.map(() => []));
    return new uPlot(opts, empty, parent);
  }

  // The colour map as a table: a heat map of 200 x 120 cells looks colours up, not computes.
  const LUT_SIZE = 256;
  const LUT = new Uint8ClampedArray(3 * LUT_SIZE);

  function viridis(t) {
    const scaled = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(scaled));
    const f = scaled - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  for (let k = 0; k < LUT_SIZE; k++) LUT.set(viridis(k / (LUT_SIZE - 1)), 3 * k);

  // A heat map on a canvas: z is rows of numbers (null: no value, grey).
  // opts: {rowLabels, xLabel, yLabel, x0, x1, transform}
  function heat(canvas, z, opts = {}) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 600, height = canvas.clientHeight || HEIGHT;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const rows = z.length, cols = rows ? z[0].length : 0;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#333";
    if (!rows || !cols) {
      ctx.fillText("waiting for data", 10, 20);
      return;
    }
    const transform = opts.transform || ((v) => v);
    let lo = Infinity, hi = -Infinity;
    const values = z.map((r) => r.map((v) => (v === null ? null : transform(v))));
    for (const r of values) for (const v of r) if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const image = new ImageData(cols, rows);
    const scale = hi > lo ? (LUT_SIZE - 1) / (hi - lo) : 0;
    for (let r = 0; r < rows; r++) {
      const row = values[r];
      for (let c = 0; c < cols; c++) {
        const v = row[c], at = 4 * (r * cols + c);
        const k = v === null || !isFinite(v) ? -1 : (hi > lo ? Math.round((v - lo) * scale) : LUT_SIZE >> 1);
        image.data[at] = k < 0 ? 200 : LUT[3 * k];
        image.data[at + 1] = k < 0 ? 200 : LUT[3 * k + 1];
        image.data[at + 2] = k < 0 ? 200 : LUT[3 * k + 2];
        image.data[at + 3] = 255;
      }
    }
    const off = document.createElement("canvas");
    off.width = cols; off.height = rows;
    off.getContext("2d").putImageData(image, 0, 0);
    const labels = opts.rowLabels || [];
    let widest = 0;
    for (const label of labels) widest = Math.max(widest, ctx.measureText(String(label)).width);
    const left = Math.min(180, Math.max(40, widest + 10)), bottom = 30, top = 6, right = 70;
    const w = width - left - right, h = height - top - bottom;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, left, top, w, h);
    ctx.fillStyle = "#333";
    const step = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(h / 12))));
    ctx.textAlign = "right";
    for (let r = 0; r < labels.length; r += step) {
      ctx.fillText(String(labels[r]), left - 4, top + (r + 0.5) * (h / rows) + 4);
    }
    ctx.textAlign = "center";
    if (opts.x0 !== undefined && opts.x1 !== undefined) {
      for (let k = 0; k <= 4; k++) {
        const v = opts.x0 + (k / 4) * (opts.x1 - opts.x0);
        ctx.fillText(Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4), left + (k / 4) * w, top + h + 13);
      }
    }
    if (opts.xLabel) ctx.fillText(opts.xLabel, left + w / 2, top + h + 26);
    // The colour scale.
    for (let k = 0; k < h; k++) {
      const rgb = viridis(1 - k / h);
      ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`;
      ctx.fillRect(left + w + 8, top + k, 12, 1);
    }
    ctx.fillStyle = "#333";
    ctx.textAlign = "left";
    ctx.fillText(hi.toPrecision(4), left + w + 24, top + 10);
    ctx.fillText(lo.toPrecision(4), left + w + 24, top + h);
    if (opts.unit) ctx.fillText(opts.unit, left + w + 24, top + h / 2);
  }

  function heatCanvas() {
    return dq.el("canvas", { class: "heat" });
  }

  // Points (u, v) and their mirror (-u, -v) on a square canvas.
  function scatter(canvas, xs, ys) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 400, height = canvas.clientHeight || HEIGHT;
    canvas.width = width * ratio; canvas.height = height * ratio;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    let extent = 1;
    for (let i = 0; i < xs.length; i++) if (xs[i] !== null && ys[i] !== null) extent = Math.max(extent, Math.abs(xs[i]), Math.abs(ys[i]));
    const size = Math.min(width, height) - 20, cx = width / 2, cy = height / 2;
    ctx.strokeStyle = "#ccc";
    ctx.strokeRect(cx - size / 2, cy - size / 2, size, size);
    ctx.fillStyle = COLOURS[0];
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === null || ys[i] === null) continue;
      for (const sign of [1, -1]) {
        ctx.fillRect(cx + sign * xs[i] / extent * size / 2 - 1, cy - sign * ys[i] / extent * size / 2 - 1, 2, 2);
      }
    }
    ctx.fillStyle = "#333";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(`u, v (m), |max| ${extent.toPrecision(4)}`, 6, 14);
  }

  return { COLOURS, card, plot, errorBars, heat, heatCanvas, scatter };
})();
