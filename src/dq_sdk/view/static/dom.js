"use strict";
// Small DOM helpers shared by the pages. Every string that came from Kafka (topic names,
// keys, headers, values, labels) reaches the page through textContent or a Text node,
// never innerHTML: a value such as <img src=x onerror=...> shows as those characters.
const dq = (() => {
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function pad(n, width = 2) {
    return String(n).padStart(width, "0");
  }

  function time(ms) {
    if (ms === null || ms === undefined || ms < 0) return "-";
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function age(ms) {
    if (ms === null || ms === undefined) return "";
    const s = (Date.now() - ms) / 1000;
    if (s < 0) return "";
    if (s < 60) return `${s.toFixed(1)} s ago`;
    if (s < 3600) return `${(s / 60).toFixed(1)} min ago`;
    return `${(s / 3600).toFixed(1)} h ago`;
  }

  function num(value, digits = 2) {
    if (value === null || value === undefined) return "-";
    return Number(value).toFixed(digits);
  }

  function bytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  }

  // Arrays of numbers arrive packed ({f32: base64 of little-endian float32}): turned into
  // plain arrays here, NaN as null (a gap in a plot).
  function unpack(value) {
    if (Array.isArray(value)) return value.map(unpack);
    if (value === null || typeof value !== "object") return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "f32" && typeof value.f32 === "string") {
      const raw = atob(value.f32);
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      const floats = new Float32Array(bytes.buffer);
      const out = new Array(floats.length);
      for (let i = 0; i < floats.length; i++) out[i] = Number.isNaN(floats[i]) ? null : floats[i];
      return out;
    }
    const out = Object.create(null);  // names from Kafka (e.g. "__proto__") stay plain keys
    for (const key of keys) out[key] = unpack(value[key]);
    return out;
  }

  // A server-sent event stream; onData gets each event's JSON. The browser reconnects by itself.
  function stream(url, onData, onGone) {
    const live = document.getElementById("live");
    const source = new EventSource(url);
    source.onopen = () => { live.textContent = "live"; live.classList.add("ok"); };
    source.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("ok"); };
    source.onmessage = (event) => onData(unpack(JSON.parse(event.data)));
    source.addEventListener("gone", () => { source.close(); if (onGone) onGone(); });
    return source;
  }

  return { el, clear, time, age, num, bytes, stream, unpack };
})();
