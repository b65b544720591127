// The mnemo control page: controls generated from the piece's parameter registry
// (GET /api/params), changes sent one at a time (POST /api/params/NAME), and everything
// that changes on the piece (from this page, another phone, OSC, MIDI, the config file)
// pushed back through one event stream (GET /api/events). No framework, no CDN.
"use strict";

const $ = (id) => document.getElementById(id);
const controls = new Map(); // name -> {def, set(value), row}
let lastValues = {};
let errorTimer = 0;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function showError(msg) {
  const box = $("error");
  box.textContent = msg;
  box.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error || `${method} ${path}: HTTP ${r.status}`);
  return data;
}

// ---- parameters ------------------------------------------------------------------------

function niceStep(def) {
  if (def.type === "int") return 1;
  const span = def.max - def.min;
  return Math.pow(10, Math.floor(Math.log10(span / 1000)));
}

function formatValue(def, v) {
  if (def.type === "float") return Number(v).toPrecision(4).replace(/\.?0+$/, "");
  return String(v);
}

// One request per parameter at a time, the newest value last: a slider's quick steps
// may not arrive out of order and leave the piece on an older value.
const sending = new Map(); // name -> {busy, next}

function send(def, value, row) {
  const s = sending.get(def.name) || { busy: false, next: undefined };
  sending.set(def.name, s);
  s.next = value;
  if (!s.busy) sendNext(def, row, s);
}

async function sendNext(def, row, s) {
  s.busy = true;
  while (s.next !== undefined) {
    const value = s.next;
    s.next = undefined;
    row.classList.remove("bad");
    row.querySelector(".why")?.remove();
    try {
      await api("POST", `/api/params/${encodeURIComponent(def.name)}`, { value });
    } catch (e) {
      row.classList.add("bad");
      row.append(el("div", { class: "why" }, e.message));
      showError(e.message);
      controls.get(def.name)?.set(lastValues[def.name], true); // what the piece still has
    }
  }
  s.busy = false;
}

// A slider sends while it is dragged (at most every 150 ms) and once more on release.
function rangeControl(def, row, valueText) {
  const input = el("input", { type: "range", min: def.min, max: def.max,
                              step: niceStep(def), "aria-label": def.name, name: def.name });
  let timer = 0;
  let dragging = false;
  const push = () => { timer = 0; send(def, Number(input.value), row); };
  input.addEventListener("input", () => {
    dragging = true;
    valueText.textContent = formatValue(def, input.value);
    if (!timer) timer = setTimeout(push, 150);
  });
  input.addEventListener("change", () => {
    dragging = false;
    clearTimeout(timer);
    push();
  });
  return { input, set(v) {
    if (!dragging) input.value = v;
    valueText.textContent = formatValue(def, v);
  } };
}

function numberControl(def, row, valueText) {
  const input = el("input", { type: "text", inputmode: "decimal", "aria-label": def.name,
                              name: def.name });
  input.addEventListener("change", () => send(def, input.value, row));
  return { input, set(v, force) {
    if (force || document.activeElement !== input) input.value = v;
    valueText.textContent = formatValue(def, v);
  } };
}

function boolControl(def, row, valueText) {
  const input = el("input", { type: "checkbox", "aria-label": def.name, name: def.name });
  input.addEventListener("change", () => send(def, input.checked, row));
  return { input, set(v) { input.checked = !!v; valueText.textContent = v ? "on" : "off"; } };
}

function enumControl(def, row, valueText) {
  const input = el("select", { "aria-label": def.name, name: def.name });
  for (const c of def.choices.split("|")) input.append(el("option", { value: c }, c));
  input.addEventListener("change", () => send(def, input.value, row));
  return { input, set(v) { input.value = v; valueText.textContent = v; } };
}

function textControl(def, row, valueText) {
  const input = el("input", { type: "text", "aria-label": def.name, name: def.name,
                              autocomplete: "off" });
  input.addEventListener("change", () => send(def, input.value, row));
  return { input, set(v, force) {
    if (force || document.activeElement !== input) input.value = v;
    valueText.textContent = "";
  } };
}

function controlFor(def, row, valueText) {
  if (def.type === "bool") return boolControl(def, row, valueText);
  if (def.type === "enum") return enumControl(def, row, valueText);
  if (def.type === "string") return textControl(def, row, valueText);
  const finite = Number.isFinite(def.min) && Number.isFinite(def.max);
  const tooWide = def.type === "int" && def.max - def.min > 10000;
  return finite && !tooWide ? rangeControl(def, row, valueText)
                            : numberControl(def, row, valueText);
}

function paramRow(def) {
  const short = def.name.slice(def.group.length + 1);
  const valueText = el("span", { class: "value" });
  const row = el("div", { class: "param", id: `p-${def.name}` },
                 el("label", { for: `c-${def.name}` }, short), valueText);
  if (!def.web) {
    row.classList.add("fixed");
    row.append(el("div", { class: "doc" }, `${def.doc} — ${def.why}`));
    return { row, set(v) { valueText.textContent = formatValue(def, v); } };
  }
  const c = controlFor(def, row, valueText);
  c.input.id = `c-${def.name}`;
  row.append(el("div", { class: "ctl" }, c.input), el("div", { class: "doc" }, def.doc));
  return { row, set: c.set };
}

function buildParams(defs) {
  const box = $("params");
  box.replaceChildren(el("h2", {}, "Parameters"));
  const groups = new Map();
  const fixed = el("details", {}, el("summary", {}, "setup (read-only here)"));
  for (const def of defs) {
    const r = paramRow(def);
    controls.set(def.name, r);
    r.set(def.value);
    lastValues[def.name] = def.value;
    if (!def.web) { fixed.append(r.row); continue; }
    if (!groups.has(def.group)) {
      const d = el("details", {}, el("summary", {}, def.group));
      if (groups.size < 3) d.open = true;
      groups.set(def.group, d);
      box.append(d);
    }
    groups.get(def.group).append(r.row);
  }
  box.append(fixed);
}

function applyValues(values) {
  for (const [name, v] of Object.entries(values)) {
    lastValues[name] = v;
    controls.get(name)?.set(v);
  }
}

// ---- the piece now ---------------------------------------------------------------------

function duration(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${sec} s`;
}

function showStats(s) {
  const events = s.events ? Object.values(s.events).reduce((a, b) => a + b, 0) : 0;
  const rows = [
    ["uptime", duration(s.t)],
    ["iterations", `${s.iterations} (${s.it_per_s.toFixed(1)}/s)`],
    ["display", s.display_fps !== undefined
      ? `${s.display_fps.toFixed(1)} fps, ${s.dropped} dropped` : "headless"],
    ["guard", `${events} events, ${s.turns ?? 0} turns, ${s.reseeds} reseeds`],
    ["memory", `${(s.rss_kib / 1024).toFixed(1)} MiB`],
    ["backend", s.backend],
  ];
  if (s.record_frames !== undefined)
    rows.push(["recording", s.record_failed ? "stopped (see the log)"
      : `${s.record_frames} frames, ${s.record_dropped} dropped`]);
  if (s.painter) rows.push(["painter", s.painter]);
  if (s.sketcher) rows.push(["sketcher", s.sketcher]);
  if (s.closed) {
    const opens = s.opens_at ? new Date(s.opens_at * 1000) : null;
    const when = opens && opens.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });
    rows.push(["state", opens ? `closed until ${when}` : "closed"]);
  }
  $("stats").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

let thumbLoading = false;
let thumbWanted = 0;
function loadThumb(n) {
  thumbWanted = n;
  if (thumbLoading) return;
  thumbLoading = true;
  const img = new Image();
  const shown = n;
  img.onload = () => {
    $("thumb").src = img.src;
    $("caption").textContent = `frame ${shown}`;
    thumbLoading = false;
    if (thumbWanted !== shown) loadThumb(thumbWanted);
  };
  img.onerror = () => { thumbLoading = false; };
  img.src = `/api/frame.jpg?n=${n}`;
}

function addLog(lines) {
  const list = $("log");
  for (const l of lines) {
    const t = new Date(l.time * 1000).toLocaleTimeString();
    list.append(el("li", { class: l.level }, el("time", {}, t), l.text));
  }
  while (list.children.length > 100) list.firstChild.remove();
  list.scrollTop = list.scrollHeight;
}

// ---- presets ---------------------------------------------------------------------------

async function loadPresets() {
  const { presets } = await api("GET", "/api/presets");
  $("preset-list").replaceChildren(...presets.sort().map((name) =>
    el("button", { type: "button", class: "ghost", "data-preset": name,
                   onclick: () => api("POST", `/api/presets/${name}/recall`).catch((e) => showError(e.message)) },
       name)));
}

$("preset-store").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const name = $("preset-name").value.trim();
  try {
    await api("POST", `/api/presets/${encodeURIComponent(name)}/store`);
    setTimeout(loadPresets, 500);
  } catch (e) {
    showError(e.message);
  }
});

$("reseed").addEventListener("click", () => api("POST", "/api/reseed").catch((e) => showError(e.message)));

// ---- live updates ----------------------------------------------------------------------

function connect() {
  const es = new EventSource("/api/events");
  const link = $("link");
  es.onopen = () => { link.textContent = "live"; link.className = "pill on"; };
  es.onerror = () => { link.textContent = "reconnecting"; link.className = "pill off"; };
  es.addEventListener("params", (e) => applyValues(JSON.parse(e.data)));
  es.addEventListener("stats", (e) => showStats(JSON.parse(e.data)));
  es.addEventListener("log", (e) => addLog(JSON.parse(e.data)));
  es.addEventListener("rejected", (e) => showError(JSON.parse(e.data).error));
  es.addEventListener("frame", (e) => loadThumb(Number(e.data)));
}

async function start() {
  try {
    const { params } = await api("GET", "/api/params");
    buildParams(params);
    await loadPresets();
  } catch (e) {
    showError(e.message);
  }
  connect();
}

start();
