"use strict";
// One topic: stats, the latest messages, and the plots its messages' model calls for.
// Updates arrive as server-sent events (at most 10 a second); drawing happens once per
// animation frame with the newest data, so a busy topic never queues redraws.
(() => {
  const el = dq.el;
  const name = decodeURIComponent(location.pathname.replace(/^\/topic\//, ""));
  const MAX_ROWS = 300;
  const HEAT_COLUMNS = 120;
  document.getElementById("topic-name").textContent = name;
  document.title = "dq-sdk view: " + name;
  const plots = document.getElementById("plots");
  const view = { kind: null, renderer: null, latest: null, rows: [], lastRowSeq: 0, seq: 0, pending: false };
  window.dqView = { updates: 0, frames: 0, events: 0, kind: null, seq: 0, drawMs: 0, eventMs: 0 };
  (function frame() { window.dqView.frames += 1; requestAnimationFrame(frame); })();

  const dB = (v) => (v === null || v <= 0 ? null : 10 * Math.log10(v));
  const hypot = (a, b) => (a === null || b === null ? null : Math.hypot(a, b));
  const sortedByTime = (rows) => rows.slice().sort((a, b) => a.t - b.t);
  // Where each antenna is in a history row (built once per row, kept on it).
  const indexOf = (row, antenna) => {
    if (!row.where) row.where = new Map(row.antennas.map((n, i) => [n, i]));
    const at = row.where.get(antenna);
    return at === undefined ? -1 : at;
  };

  function select(options, current) {
    const node = el("select");
    fillSelect(node, options, current);
    return node;
  }

  function fillSelect(node, options, current) {
    const same = node.options.length === options.length && [...node.options].every((o, i) => o.value === String(i) && o.textContent === options[i]);
    if (same) return;
    const chosen = current ?? node.value;
    dq.clear(node);
    options.forEach((label, i) => node.append(el("option", { value: String(i), text: label })));
    node.value = chosen !== undefined && chosen !== "" && Number(chosen) < options.length ? String(chosen) : "0";
  }

  function sameNames(a, b) {
    return a && b && a.length === b.length && a.every((x, i) => x === b[i]);
  }

  // --- renderers: build(plots) once per kind, update(latest view, history rows) per frame ---

  function pointing() {
    const offsets = charts.card("pointing-offsets", "Offsets per antenna (arcsec): error bars \u00b11\u03c3, failed fits (NaN) in red at 0");
    const widths = charts.card("beam-widths", "Beam width per antenna, fitted vs expected (arcmin)");
    const history = charts.card("offset-history", "Offsets of one antenna over time (arcsec)");
    const heatmap = charts.card("offset-heatmap", "Total offset per antenna over time (arcsec)");
    const antenna = select([]);
    history.controls.append(el("label", {}, "antenna ", antenna));
    const canvas = charts.heatCanvas();
    heatmap.body.append(canvas);
    plots.append(offsets.root, widths.root, history.root, heatmap.root);
    let names = [], errors = {}, widthPlot = null, widthLabels = null;
    const byIndex = (u, splits) => splits.map((v) => (Number.isInteger(v) && names[v] !== undefined ? names[v] : ""));
    const offsetPlot = charts.plot(offsets.body, [
      { label: "cross-elevation", points: true }, { label: "elevation", points: true },
      { label: "failed fit", points: true, size: 9, colour: "#d62728", fill: "#fff" },
    ], { xLabel: "antenna", yLabel: "arcsec", xValues: byIndex, plugins: [charts.errorBars(() => errors)] });
    const historyPlot = charts.plot(history.body, [{ label: "cross-elevation" }, { label: "elevation" }], { time: true, yLabel: "arcsec" });
    antenna.addEventListener("change", () => { view.pending = true; schedule(); });
    return {
      update(latest, rows) {
        const p = latest.plot;
        offsets.root.querySelector("h3").textContent = `Offsets per antenna (${p.unit}): error bars \u00b11\u03c3, failed fits (NaN) in red at 0`;
        widths.root.querySelector("h3").textContent = `Beam width per antenna, fitted vs expected (${p.widths.unit})`;
        history.root.querySelector("h3").textContent = `Offsets of one antenna over time (${p.unit})`;
        names = p.antennas;
        const x = names.map((_, i) => i);
        const failed = x.map((i) => (p.failed.includes(i) ? 0 : null));
        errors = { 1: p.xel_std, 2: p.el_std };
        offsetPlot.setData([x, p.xel, p.el, failed]);
        offsets.drew();
        if (!sameNames(widthLabels, p.widths.labels)) {
          if (widthPlot) widthPlot.destroy();
          widthLabels = p.widths.labels;
          widthPlot = charts.plot(widths.body, widthLabels.map((label, i) => ({ label, points: i < 2 })), { xLabel: "antenna", yLabel: "arcmin", xValues: byIndex });
        }
        widthPlot.setData([x.slice(0, (p.widths.series[0] || []).length)].concat(p.widths.series));
        widths.drew();
        fillSelect(antenna, names);
        const chosen = names[Number(antenna.value)];
        const ordered = sortedByTime(rows);
        const points = ordered.map((r) => [r.t, indexOf(r, chosen), r]).filter(([, i]) => i >= 0);
        historyPlot.setData([points.map(([t]) => t), points.map(([, i, r]) => r.xel[i]), points.map(([, i, r]) => r.el[i])]);
        history.drew();
        const recent = ordered.slice(-HEAT_COLUMNS);
        const z = names.map((n) => recent.map((r) => {
          const i = indexOf(r, n);
          return i < 0 ? null : hypot(r.xel[i], r.el[i]);
        }));
        heatmap.root.querySelector("h3").textContent = `Total offset per antenna over time (${p.unit})`;
        charts.heat(canvas, z, { rowLabels: names, xLabel: `last ${recent.length} solutions (oldest left)`, unit: p.unit });
        heatmap.drew();
      },
    };
  }

  function spectrum() {
    const power = charts.card("spectrum", "Power vs frequency per polarisation");
    const waterfall = charts.card("waterfall", "Waterfall of recent spectra (newest at top)");
    const log = el("input", { type: "checkbox", checked: "" });
    power.controls.append(el("label", {}, log, " dB"));
    const pol = select([]);
    waterfall.controls.append(el("label", {}, "polarisation ", pol));
    const canvas = charts.heatCanvas();
    waterfall.body.append(canvas);
    plots.append(power.root, waterfall.root);
    let plot = null, names = null;
    for (const control of [log, pol]) control.addEventListener("change", () => { view.pending = true; schedule(); });
    return {
      update(latest, rows) {
        const p = latest.plot;
        const labels = p.series.map((s) => s.name);
        if (!sameNames(names, labels)) {
          if (plot) plot.destroy();
          names = labels;
          plot = charts.plot(power.body, labels.map((label) => ({ label })), { xLabel: p.x_label });
        }
        const scale = log.checked ? (ys) => ys.map(dB) : (ys) => ys;
        plot.setData([p.x].concat(p.series.map((s) => scale(s.y))));
        power.drew();
        fillSelect(pol, labels);
        const chosen = labels[Number(pol.value)];
        const recent = rows.slice(-100).reverse().map((r) => r.pols[chosen] || []);
        charts.heat(canvas, recent, {
          x0: p.waterfall_x[0], x1: p.waterfall_x[p.waterfall_x.length - 1], xLabel: p.x_label,
          transform: log.checked ? dB : undefined, unit: log.checked ? "dB" : "",
        });
        waterfall.drew();
      },
    };
  }

  function baselines() {
    const lines = charts.card("baseline-lines", "Per baseline and polarisation");
    const grid = charts.card("baseline-heatmap", "Every baseline and polarisation");
    const canvas = charts.heatCanvas();
    grid.body.append(canvas);
    plots.append(lines.root, grid.root);
    let plot = null, names = null;
    return {
      update(latest) {
        const p = latest.plot;
        lines.root.querySelector("h3").textContent = `${p.quantity}: ${p.series.length} of ${p.total} baseline-polarisations`;
        grid.root.querySelector("h3").textContent = `${p.quantity}: all ${p.total} baseline-polarisations`;
        const labels = p.series.map((s) => s.name);
        if (!sameNames(names, labels)) {
          if (plot) plot.destroy();
          names = labels;
          plot = charts.plot(lines.body, labels.map((label) => ({ label })), { xLabel: p.x_label, yLabel: p.quantity });
        }
        plot.setData([p.x].concat(p.series.map((s) => s.y)));
        lines.drew();
        charts.heat(canvas, p.grid.z, { rowLabels: p.grid.rows, x0: p.grid.x0, x1: p.grid.x1, xLabel: p.x_label });
        grid.drew();
      },
    };
  }

  function uv() {
    const box = charts.card("uv", "uv coverage");
    const canvas = charts.heatCanvas();
    box.body.append(canvas);
    plots.append(box.root);
    return { update(latest) { charts.scatter(canvas, latest.plot.u, latest.plot.v); box.drew(); } };
  }

  function line() {
    const box = charts.card("line", "Values");
    plots.append(box.root);
    let plot = null, names = null, labels = [];
    return {
      update(latest) {
        const p = latest.plot;
        labels = p.labels || [];
        const series = p.series.map((s) => s.name);
        if (!sameNames(names, series)) {
          if (plot) plot.destroy();
          names = series;
          const xValues = p.labels ? (u, splits) => splits.map((v) => labels[v] ?? "") : undefined;
          plot = charts.plot(box.body, series.map((label) => ({ label, points: !!p.labels })), { xLabel: p.x_label, xValues });
        }
        plot.setData([p.x].concat(p.series.map((s) => s.y)));
        box.drew();
      },
    };
  }

  function heatmap() {
    const box = charts.card("heatmap", "Values (heat map)");
    const note = el("p", { class: "muted" });
    const canvas = charts.heatCanvas();
    box.body.append(note, canvas);
    plots.append(box.root);
    return {
      update(latest) {
        const p = latest.plot;
        note.textContent = p.note || "";
        charts.heat(canvas, p.z, { rowLabels: p.rows, x0: p.x0, x1: p.x1, xLabel: "column" });
        box.drew();
      },
    };
  }

  function scalar() {
    const box = charts.card("scalar", "Value over time");
    plots.append(box.root);
    const plot = charts.plot(box.body, [{ label: "value" }], { time: true });
    return {
      update(latest, rows) {
        const points = sortedByTime(rows.filter((r) => r.value !== undefined));
        plot.setData([points.map((r) => r.t), points.map((r) => r.value)]);
        box.drew();
      },
    };
  }

  function text() {
    const box = charts.card("text", "Latest value");
    const pre = el("pre", { class: "text" });
    const older = el("ul", { class: "values" });
    box.body.append(pre, el("h3", { text: "Values before it" }), older);
    plots.append(box.root);
    return {
      update(latest, rows) {
        pre.textContent = latest.plot.text;
        dq.clear(older);
        for (const r of rows.filter((r) => r.text !== undefined).slice(-11, -1).reverse()) {
          older.append(el("li", { text: r.text.length > 400 ? r.text.slice(0, 400) + "..." : r.text }));
        }
        box.drew();
      },
    };
  }

  function error() {
    const box = charts.card("error", "This message could not be shown");
    const pre = el("pre", { class: "text" });
    box.body.append(pre);
    plots.append(box.root);
    return { update(latest) { pre.textContent = latest.plot.text; box.drew(); } };
  }

  const RENDERERS = { pointing, spectrum, baselines, uv, line, heatmap, scalar, text, error, bytes: text };

  // --- stats and messages ---

  function stats(s) {
    const box = document.getElementById("stats");
    dq.clear(box);
    const item = (label, value) => box.append(el("span", {}, el("b", { text: label + ": " }), String(value)));
    item("partitions", s.partitions);
    item("msg/s", dq.num(s.msg_s, 1));
    item("MiB/s", dq.num(s.mib_s, 3));
    item("seen", s.received);
    item("plotted", s.decoded);
    item("errors", s.errors);
    item("encoding", s.encoding || "-");
    item("schema", s.model ? `${s.model} (${s.schema})` : (s.schema || "-"));
    item("last message", `${dq.time(s.last_timestamp_ms)} (${dq.age(s.last_timestamp_ms)})`);
    item("view behind by", s.view_lag);
    for (const [group, lag] of Object.entries(s.lag)) item(`lag of ${group}`, lag === null ? "no commits" : lag);
  }

  function messages(list) {
    const body = document.querySelector("#messages tbody");
    dq.clear(body);
    for (const m of list) {
      const headers = el("td", { class: "mono headers" });
      for (const [key, value] of m.headers) headers.append(el("div", {}, `${key}: ${value === null ? "null" : value}`));
      const summary = m.summary === null
        ? el("td", { class: "undecoded", text: "not plotted (over 10 per second); counted and listed" })
        : el("td", { class: "mono", text: m.summary });
      body.append(el("tr", {},
        el("td", { class: "num", text: m.partition }),
        el("td", { class: "num", text: m.offset }),
        el("td", { text: dq.time(m.timestamp_ms) }),
        el("td", { class: "mono", text: m.key === null ? "(no key)" : m.key }),
        headers,
        el("td", { class: "num", text: dq.bytes(m.size) }),
        summary));
    }
  }

  // The stats line and the messages table are rebuilt at most 4 times a second: text at
  // 10 Hz is unreadable anyway, and rebuilding them cost more than the plots.
  const tables = { stats: null, messages: null, at: 0, timer: null };

  function scheduleTables() {
    if (tables.timer !== null) return;
    const wait = Math.max(0, 250 - (performance.now() - tables.at));
    tables.timer = setTimeout(() => requestAnimationFrame(() => {
      tables.timer = null;
      tables.at = performance.now();
      if (tables.stats) stats(tables.stats);
      if (tables.messages) messages(tables.messages);
    }), wait);
  }

  // --- drawing ---

  function schedule() {
    if (!view.scheduled) {
      view.scheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function draw() {
    view.scheduled = false;
    if (!view.pending || !view.latest) return;
    view.pending = false;
    const latest = view.latest;
    if (latest.kind !== view.kind) {
      dq.clear(plots);
      view.kind = latest.kind;
      view.renderer = (RENDERERS[latest.kind] || text)();
    }
    document.getElementById("summary").textContent =
      `${latest.model ? latest.model + ": " : ""}${latest.summary} (partition ${latest.partition}, offset ${latest.offset}, ${dq.time(latest.timestamp_ms)})`;
    const started = performance.now();
    view.renderer.update(latest, view.rows);
    window.dqView.drawMs += performance.now() - started;
    window.dqView.updates += 1;
    window.dqView.kind = latest.kind;
    window.dqView.rows = view.rows.length;
    window.dqView.seq = view.seq;
  }

  function receive(update) {
    const started = performance.now();
    receiveNow(update);
    window.dqView.eventMs += performance.now() - started;
  }

  function receiveNow(update) {
    window.dqView.events += 1;
    if (update.reset || update.seq < view.seq) {
      view.rows = [];
      view.lastRowSeq = 0;
    }
    view.seq = update.seq;
    // One message may give several rows (a pointing table's times), all with its seq.
    const known = view.lastRowSeq;
    for (const row of update.rows) {
      if (row.seq > known) {
        view.rows.push(row);
        view.lastRowSeq = Math.max(view.lastRowSeq, row.seq);
      }
    }
    if (view.rows.length > MAX_ROWS) view.rows.splice(0, view.rows.length - MAX_ROWS);
    tables.stats = update.stats;
    tables.messages = update.messages;
    scheduleTables();
    if (update.view) {
      view.latest = update.view;
      view.pending = true;
      schedule();
    }
  }

  dq.stream(`/api/topics/${encodeURIComponent(name)}/events`, receive, () => {
    document.getElementById("summary").textContent = `topic ${name} is not shown (deleted, or not chosen with --topics)`;
  });
})();
