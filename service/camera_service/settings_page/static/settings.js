// The settings page: login (checked by the robot), the service's status, a live preview per
// source (the viewer's Tile from preview.js), the source editor and the cameras present.
// Every POST carries the session's CSRF token; a 401 from any call shows the login again.
"use strict";

const STATUS_POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

const state = {
  session: null, // {user, csrf, expires_in, service}
  schema: null,
  entries: [], // form values of each source entry
  tiles: new Map(), // source name -> Tile
  timer: null,
};

// ----- talking to the service --------------------------------------------------------------

async function call(method, url, body) {
  const init = { method, cache: "no-store", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && state.session) init.headers["X-CSRF-Token"] = state.session.csrf;
  const response = await fetch(url, init);
  const answer = await response.json().catch(() => ({ error: "bad_answer", message: `HTTP ${response.status}` }));
  if (response.status === 401 && url !== "/api/login") {
    showLogin(answer.message);
    throw new Error(answer.message);
  }
  return { ok: response.ok, status: response.status, body: answer };
}

// ----- login / logout ----------------------------------------------------------------------

function showLogin(message) {
  state.session = null;
  clearInterval(state.timer);
  for (const tile of state.tiles.values()) tile.stop();
  state.tiles.clear();
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("who").className = "status status-pending";
  $("who").textContent = "not logged in";
  const box = $("login-message");
  box.hidden = !message;
  box.className = "message bad";
  box.textContent = message || "";
}

function showApp(session) {
  state.session = session;
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("who").className = "status status-ok";
  $("who").textContent = `logged in as ${session.user}`;
  $("password").value = "";
  refreshStatus();
  loadConfig();
  loadCameras();
  state.timer = setInterval(refreshStatus, STATUS_POLL_MS);
}

async function login(event) {
  event.preventDefault();
  $("login-button").disabled = true;
  try {
    const answer = await call("POST", "/api/login",
      { username: $("username").value, password: $("password").value });
    if (answer.ok) showApp(answer.body);
    else showLogin(answer.body.message);
  } finally {
    $("login-button").disabled = false;
    $("password").value = "";
  }
}

async function logout() {
  await call("POST", "/api/logout", {}).catch(() => {});
  showLogin("logged out");
}

// ----- status --------------------------------------------------------------------------------

const yesNo = (value) => element("span", { class: value ? "yes" : "no", text: value ? "yes" : "no" });

async function refreshStatus() {
  let answer;
  try {
    answer = await call("GET", "/api/status");
  } catch (err) {
    return;
  }
  const status = answer.body;
  const robot = status.robot;
  const facts = [
    ["robot", robot.address], ["authenticated", yesNo(robot.authenticated)],
    ["registered", yesNo(robot.registered)], ["time sync", yesNo(robot.time_sync)],
    ["service", `${status.service.name} (port ${status.service.port})`],
  ];
  if (robot.problem) facts.push(["problem", robot.problem]);
  if (status.last_apply) facts.push(["last apply", describeApply(status.last_apply)]);
  $("robot-status").replaceChildren(...facts.flatMap(([label, value]) =>
    [element("dt", { text: label }), element("dd", {}, value)]));
  const rows = status.sources.map((source) => {
    // what the camera delivers: the size of its frames, its own rate when it says one
    const g = source.granted;
    const granted = g
      ? `${g.width}×${g.height}${g.camera_fps ? ` @ ${g.camera_fps}` : ""} (${g.format})` : "—";
    const stateCell = element("td", { class: source.state === "faulted" ? "no" : "" , text: source.state });
    if (source.fault) stateCell.append(element("br"), element("small", { text: source.fault }));
    return element("tr", { "data-source": source.name, "data-state": source.state },
      element("td", { text: source.name }), stateCell,
      element("td", { text: source.fps === null ? "—" : `${source.fps} fps` }),
      element("td", { text: granted }),
      element("td", { text: source.passthrough }));
  });
  $("source-status").querySelector("tbody").replaceChildren(...rows);
  syncTiles(status.sources.map((source) => source.name));
  syncControlSources(status.sources.map((source) => source.name));
}

function describeApply(applied) {
  const parts = ["kept", "reopened", "added", "removed"]
    .filter((key) => applied[key].length).map((key) => `${key} ${applied[key].join(", ")}`);
  if (applied.republished) parts.push("source list republished to the robot");
  if (applied.restart_needed.length) parts.push(`restart needed for ${applied.restart_needed.join(", ")}`);
  return parts.join("; ") || "no change";
}

// ----- live preview (the viewer's tile) ------------------------------------------------------

function syncTiles(names) {
  for (const [name, tile] of state.tiles) {
    if (!names.includes(name)) {
      tile.stop();
      state.tiles.delete(name);
    }
  }
  for (const name of names) {
    if (state.tiles.has(name)) continue;
    const service = state.session.service;
    const url = () => `/api/frame?${new URLSearchParams({ source: name, quality: 75, resize: 0.5 })}`;
    const tile = new Tile(service, name, url);
    state.tiles.set(name, tile);
    $("tiles").append(tile.el);
  }
}

// ----- live camera controls ------------------------------------------------------------------
// One input per control the camera reports: a slider (int, float), a switch (bool) or a menu.
// A change is sent at once; while one is on its way, only the latest value waits to follow.

const controlsState = { source: null, sending: false, pending: null };

function syncControlSources(names) {
  const select = $("controls-source");
  const current = [...select.options].map((option) => option.value);
  if (current.join("\n") === names.join("\n")) return;
  select.replaceChildren(...names.map((name) => element("option", { value: name, text: name })));
  if (names.includes(controlsState.source)) select.value = controlsState.source;
  loadControls();
}

async function loadControls() {
  const source = $("controls-source").value;
  controlsState.source = source || null;
  if (!source) {
    $("control-list").replaceChildren();
    return;
  }
  const answer = await call("GET", `/api/controls?${new URLSearchParams({ source })}`).catch(() => null);
  if (answer && answer.ok && answer.body.source === controlsState.source) renderControls(answer.body.controls);
}

function controlInput(control) {
  const attrs = { id: `control-${control.name}`, "data-control": control.name, "aria-label": control.name };
  let input;
  if (control.kind === "bool") {
    input = element("input", { ...attrs, type: "checkbox", class: "switch" });
    input.checked = Boolean(control.value);
  } else if (control.kind === "menu") {
    input = element("select", attrs, ...control.choices.map((choice) => element("option", { value: choice, text: choice })));
    input.value = String(control.value);
  } else {
    input = element("input", { ...attrs, type: "range",
      min: String(control.min ?? 0), max: String(control.max ?? 100),
      step: String(control.step || (control.kind === "int" ? 1 : "any")) });
    input.value = String(control.value);
  }
  return input;
}

function controlValue(control, input) {
  if (control.kind === "bool") return input.checked;
  if (control.kind === "menu") return input.value;
  return control.kind === "int" ? parseInt(input.value, 10) : parseFloat(input.value);
}

function renderControls(controls) {
  const rows = controls.map((control) => {
    const input = controlInput(control);
    const shown = element("output", { "data-value-for": control.name, text: String(control.value) });
    const send = () => {
      const value = controlValue(control, input);
      shown.textContent = String(value);
      queueControl({ [control.name]: value });
    };
    input.addEventListener(control.kind === "bool" || control.kind === "menu" ? "change" : "input", send);
    const help = control.description ? element("small", { class: "hint", text: ` ${control.description}` }) : "";
    const range = control.min !== null && control.min !== undefined ? ` (${control.min}…${control.max}, default ${control.default})` : ` (default ${control.default})`;
    return element("label", { class: "control" }, element("span", { text: control.name + range }), input, shown, help);
  });
  $("control-list").replaceChildren(...rows);
  if (!controls.length) $("control-list").append(element("p", { class: "hint", text: "This source reports no controls." }));
}

function showControlsMessage(text, good) {
  const box = $("controls-message");
  box.hidden = !text;
  box.className = `message ${good ? "ok" : "bad"}`;
  box.textContent = text;
}

function queueControl(values) {
  controlsState.pending = { ...(controlsState.pending || {}), ...values };
  if (!controlsState.sending) sendControls();
}

async function sendControls() {
  const source = controlsState.source;
  const values = controlsState.pending;
  controlsState.pending = null;
  if (!source || !values) return;
  controlsState.sending = true;
  try {
    const answer = await call("POST", "/api/controls", { source, values });
    if (!answer.ok) showControlsMessage(answer.body.message, false);
    else showControlsMessage("", true);
  } catch (err) {
    // a 401 already brought the login back
  } finally {
    controlsState.sending = false;
    if (controlsState.pending) sendControls();
  }
}

async function controlsAction(path, done) {
  const source = controlsState.source;
  if (!source) return;
  const answer = await call("POST", path, { source }).catch(() => null);
  if (!answer) return;
  if (!answer.ok) {
    showControlsMessage(answer.body.message, false);
    return;
  }
  showControlsMessage(done(answer.body), true);
  await loadControls();
}

// ----- the source editor ---------------------------------------------------------------------
// Every option of a source is a field, generated from the config's JSON Schema (the server's
// describe()): per kind its fields, typed, with help, default and bounds; the rarely used ones
// folded under "advanced". A V4L2 source's device, format, size and rate are choices the
// camera present reports. Errors (from the same schema) show next to their field.

async function loadConfig() {
  const answer = await call("GET", "/api/config");
  if (!answer.ok) return;
  state.schema = answer.body.schema;
  state.entries = answer.body.sources;
  $("config-path").textContent = answer.body.path;
  renderEntries();
}

const kindFields = (kind) => (state.schema.kinds[kind] || state.schema.kinds.v4l2).fields;
const plain = (help) => (help || "").replace(/``/g, ""); // the schema's docstring markup

function errorBox(index, path) {
  return element("p", { class: "field-error", "data-index": String(index), "data-error-for": path });
}

// Immediate checks from the schema (the server checks again, with the config's validation).
function localProblem(field, text) {
  if (text === "" || text === undefined || text === null) return field.required ? "is required" : "";
  if (field.kind !== "int" && field.kind !== "float") return "";
  const value = Number(text);
  if (!Number.isFinite(value)) return `must be ${field.kind === "int" ? "an integer" : "a number"}`;
  if (field.kind === "int" && !Number.isInteger(value)) return "must be an integer";
  if (field.minimum !== undefined && value < field.minimum) return `must be >= ${field.minimum}`;
  if (field.maximum !== undefined && value > field.maximum) return `must be <= ${field.maximum}`;
  if (field.exclusive_minimum !== undefined && value <= field.exclusive_minimum) return `must be > ${field.exclusive_minimum}`;
  if (field.exclusive_maximum !== undefined && value >= field.exclusive_maximum) return `must be < ${field.exclusive_maximum}`;
  return "";
}

function showLocal(index, path, field, input, text) {
  const box = document.querySelector(`.field-error[data-index="${index}"][data-error-for="${path}"]`);
  const problem = localProblem(field, text);
  if (box) box.textContent = problem ? `${path}: ${problem}` : "";
  input.classList.toggle("invalid", Boolean(problem));
}

function selectOf(attrs, choices, value, blank) {
  const options = choices.map((choice) => (typeof choice === "object" ? choice : { value: String(choice), text: String(choice) }));
  if (blank !== undefined) options.unshift({ value: "", text: blank });
  const select = element("select", attrs, ...options.map((o) => element("option", { value: o.value, text: o.text })));
  if (value !== undefined && value !== null && !options.some((o) => o.value === String(value))) {
    select.append(element("option", { value: String(value), text: String(value) }));
  }
  select.value = value === undefined || value === null ? "" : String(value);
  return select;
}

// The input of one scalar field; ``set(value)`` stores what the user chose.
function scalarInput(field, attrs, value, set, choices) {
  let input;
  if (choices) {
    input = selectOf(attrs, choices, value, field.required ? undefined : `default${field.default === null || field.default === undefined ? "" : ` (${field.default})`}`);
    input.addEventListener("change", () => set(input.value));
  } else if (field.kind === "enum") {
    input = selectOf(attrs, field.choices, value, field.required ? undefined : `default${field.default === null || field.default === undefined ? "" : ` (${field.default})`}`);
    input.addEventListener("change", () => set(input.value));
  } else if (field.kind === "bool") {
    input = element("input", { ...attrs, type: "checkbox", class: "switch" });
    input.checked = value === undefined || value === null ? Boolean(field.default) : Boolean(value);
    input.addEventListener("change", () => set(input.checked));
  } else {
    const numeric = field.kind === "int" || field.kind === "float";
    input = element("input", { ...attrs, type: numeric ? "number" : "text",
      step: field.kind === "float" ? "any" : "1" });
    if (field.minimum !== undefined) input.setAttribute("min", String(field.minimum));
    if (field.maximum !== undefined) input.setAttribute("max", String(field.maximum));
    const hint = field.example !== undefined ? field.example : field.default;
    if (hint !== undefined && hint !== null && typeof hint !== "object") input.setAttribute("placeholder", String(hint));
    input.value = value === undefined || value === null ? "" : (typeof value === "object" ? JSON.stringify(value) : String(value));
    input.addEventListener("input", () => set(input.value));
  }
  return input;
}

function vectorInput(field, attrs, value, set) {
  const values = Array.isArray(value) ? value.map(String) : Array(field.size).fill("");
  const boxes = values.map((item, i) => {
    const box = element("input", { ...attrs, "data-field": `${attrs["data-field"]}[${i}]`, type: "number", step: "any", class: "vector" });
    box.value = item;
    box.addEventListener("input", () => { values[i] = box.value; set([...values]); });
    return box;
  });
  return element("span", { class: "vector-inputs" }, ...boxes);
}

function mapInput(field, attrs, value, set) {
  const rows = Object.entries(value || {}).map(([k, v]) => [k, String(v)]);
  const wrap = element("div", { class: "map", "data-index": attrs["data-index"], "data-field": attrs["data-field"] });
  const commit = () => set(Object.fromEntries(rows.filter(([k]) => k.trim())));
  const draw = () => {
    const lines = rows.map((row, i) => {
      const name = element("input", { type: "text", placeholder: "name", "aria-label": `${field.name} name`, value: row[0] });
      const val = element("input", { type: "text", placeholder: "value", "aria-label": `${field.name} value`, value: row[1] });
      name.addEventListener("input", () => { row[0] = name.value; commit(); });
      val.addEventListener("input", () => { row[1] = val.value; commit(); });
      const drop = element("button", { type: "button", text: "×", "aria-label": "remove" });
      drop.addEventListener("click", () => { rows.splice(i, 1); commit(); draw(); });
      return element("div", { class: "map-row" }, name, val, drop);
    });
    const add = element("button", { type: "button", text: `add ${field.name === "controls" ? "a control" : "an entry"}` });
    add.addEventListener("click", () => { rows.push(["", ""]); draw(); });
    wrap.replaceChildren(...lines, add);
  };
  draw();
  return wrap;
}

// The camera present a V4L2 entry's device names, if any.
function cameraOf(entry) {
  const device = entry.device === undefined || entry.device === null ? "" : String(entry.device);
  return (state.cameras || []).find((camera) => camera.captures && device
    && (camera.device === device || camera.node === device || (camera.stable_paths || []).includes(device))) || null;
}

const discreteSizes = (format) => (format ? format.sizes.filter((size) => size.kind === "discrete") : []);

function cameraFormat(camera, entry) {
  const wanted = String(entry.format || "MJPG").trim().toUpperCase();
  return camera.formats.find((format) => format.fourcc.trim() === wanted) || camera.formats[0] || null;
}

// Choices a field takes from the camera present (V4L2), else null.
function cameraChoices(entry, name) {
  if (entry.type !== "v4l2") return null;
  if (name === "device") {
    const present = (state.cameras || []).filter((camera) => camera.captures);
    return present.length ? present.map((camera) => ({ value: camera.device, text: `${camera.card} (${camera.device})` })) : null;
  }
  const camera = cameraOf(entry);
  if (!camera || !camera.formats.length) return null;
  if (name === "format") return camera.formats.map((format) => format.fourcc.trim());
  const format = cameraFormat(camera, entry);
  const sizes = discreteSizes(format);
  if (!sizes.length) return null;
  if (name === "size") return sizes.map((size) => `${size.width}x${size.height}`);
  if (name === "fps") {
    const size = sizes.find((s) => s.width === Number(entry.width) && s.height === Number(entry.height)) || sizes[0];
    const rates = size.rates.filter((rate) => rate.kind === "discrete").map((rate) => String(rate.fps));
    return rates.length ? rates : null;
  }
  return null;
}

function fieldLabel(index, field, path, value, set) {
  const attrs = { "data-index": String(index), "data-field": path, name: `${path}-${index}`, "aria-label": path };
  let input;
  if (field.kind === "group") {
    const inner = { ...(value || {}) };
    const parts = field.fields.map((sub) => fieldLabel(index, sub, `${path}.${sub.name}`, inner[sub.name], (v) => {
      inner[sub.name] = v;
      set({ ...inner });
    }));
    return element("fieldset", { class: "group" }, element("legend", { text: path }),
      element("small", { class: "hint", text: plain(field.help) }), ...parts, errorBox(index, path));
  }
  if (field.kind === "vector") input = vectorInput(field, attrs, value, set);
  else if (field.kind === "map") input = mapInput(field, attrs, value, set);
  else {
    input = scalarInput(field, attrs, value, (v) => { set(v); showLocal(index, path, field, input, v); },
      path === field.name ? cameraChoices(state.entries[index], field.name) : null);
  }
  const label = element("label", { class: field.kind === "map" ? "wide" : "" }, field.name, input);
  if (field.help) label.append(element("small", { class: "hint", text: plain(field.help) }));
  label.append(errorBox(index, path));
  return label;
}

function sizeLabel(index, entry) {
  const choices = cameraChoices(entry, "size");
  if (!choices) return null;
  const current = entry.width && entry.height ? `${entry.width}x${entry.height}` : "";
  const input = selectOf({ "data-index": String(index), "data-field": "size", "aria-label": "size" }, choices, current, "default");
  input.addEventListener("change", () => {
    const [width, height] = input.value ? input.value.split("x") : ["", ""];
    Object.assign(state.entries[index], { width, height });
    renderEntries();
  });
  return element("label", {}, "size", input, element("small", { class: "hint", text: "a size the camera offers in this format" }),
    errorBox(index, "width"), errorBox(index, "height"));
}

function renderEntries() {
  const cards = state.entries.map((entry, index) => {
    if (!entry.type) entry.type = "v4l2";
    const fields = kindFields(entry.type);
    const sized = sizeLabel(index, entry);
    const main = [];
    const advanced = [];
    for (const field of fields) {
      if (sized && (field.name === "width" || field.name === "height")) {
        if (field.name === "width") main.push(sized);
        continue;
      }
      const set = (value) => {
        state.entries[index][field.name] = value;
        if (field.name === "type" || (entry.type === "v4l2" && (field.name === "device" || field.name === "format"))) renderEntries();
      };
      const label = field.name === "type"
        ? element("label", {}, "type", selectOf({ "data-index": String(index), "data-field": "type", "aria-label": "type" },
          Object.keys(state.schema.kinds), entry.type), element("small", { class: "hint", text: plain(state.schema.kinds[entry.type]?.help) }),
          errorBox(index, "type"))
        : fieldLabel(index, field, field.name, entry[field.name], set);
      if (field.name === "type") label.querySelector("select").addEventListener("change", (event) => set(event.target.value));
      (field.advanced ? advanced : main).push(label);
    }
    const remove = element("button", { type: "button", class: "remove", text: "Remove" });
    remove.addEventListener("click", () => { state.entries.splice(index, 1); renderEntries(); });
    const more = element("details", { class: "advanced", "data-index": String(index) },
      element("summary", { text: "advanced" }), element("div", { class: "fields" }, ...advanced));
    return element("div", { class: "entry", "data-index": String(index), "data-kind": entry.type }, remove,
      element("div", { class: "fields" }, ...main), more);
  });
  $("entries").replaceChildren(...cards);
}

function clearErrors() {
  for (const box of document.querySelectorAll(".field-error")) box.textContent = "";
  for (const input of document.querySelectorAll(".invalid")) input.classList.remove("invalid");
  $("save-message").hidden = true;
}

function showMessage(text, good) {
  const box = $("save-message");
  box.hidden = false;
  box.className = `message ${good ? "ok" : "bad"}`;
  box.textContent = text;
}

// The error box for a key's field: the exact (sub-)field, else the top-level field.
function errorTarget(index, field) {
  if (index === null || index === undefined || !field) return null;
  const parts = field.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const path = parts.slice(0, n).join(".").replace(/\[\d+\]$/, "");
    const box = document.querySelector(`.field-error[data-index="${index}"][data-error-for="${path}"]`);
    if (box) return { box, path };
  }
  return null;
}

async function save() {
  clearErrors();
  $("save").disabled = true;
  try {
    const answer = await call("POST", "/api/config", { sources: state.entries });
    if (answer.ok) {
      showMessage(`Saved and applied: ${describeApply(answer.body.applied)}`, true);
      refreshStatus();
      loadCameras(); // the new sources' controls, the cameras now in use
      return;
    }
    const error = answer.body;
    const target = errorTarget(error.index, error.field);
    if (target) {
      target.box.textContent = `${error.key}: ${error.message}`;
      const input = document.querySelector(`[data-index="${error.index}"][data-field="${target.path}"]`);
      if (input) input.classList.add("invalid");
      const details = target.box.closest("details");
      if (details) details.open = true;
      showMessage("Not saved: fix the field marked in red.", false);
    } else {
      showMessage(`Not saved: ${error.key ? `${error.key}: ` : ""}${error.message}`, false);
    }
  } catch (err) {
    // a 401 already brought the login back
  } finally {
    $("save").disabled = false;
  }
}

function addSource(values = {}) {
  state.entries.push({ type: "v4l2", ...values });
  renderEntries();
}

// ----- cameras present -------------------------------------------------------------------------

async function loadCameras() {
  let answer;
  try {
    answer = await call("GET", "/api/cameras");
  } catch (err) {
    return;
  }
  const { present, dev_root: devRoot } = answer.body;
  state.cameras = present;
  // V4L2 fields take their choices from the cameras present
  if (state.schema && state.entries.some((entry) => entry.type === "v4l2")) renderEntries();
  const rows = present.map((camera) => {
    const use = element("button", { type: "button", class: "add-camera", "data-node": camera.node, text: "Add this camera" });
    use.disabled = !camera.captures || Boolean(camera.source);
    use.addEventListener("click", () => addCamera(camera));
    const offers = camera.captures
      ? [...camera.formats.map((format) => element("div", { class: "hint", "data-format": format.fourcc },
          `${format.fourcc}: ${format.sizes.map(sizeText).join("; ") || "sizes not reported"}`)),
        ...(camera.controls.length ? [element("div", { class: "hint" }, `controls: ${controlsText(camera.controls)}`)] : [])]
      : [];
    return element("tr", { "data-node": camera.node },
      element("td", { text: camera.node }),
      element("td", {}, `${camera.card}${camera.captures ? "" : " (metadata only)"}`, ...offers),
      element("td", { text: camera.device }),
      element("td", { text: camera.source || "not configured" }), element("td", {}, use));
  });
  $("camera-list").querySelector("tbody").replaceChildren(...rows);
  $("no-cameras").hidden = present.length > 0;
  $("no-cameras").textContent = `No video device under ${devRoot} right now.`;
}

// The best MJPEG mode a camera offers: the largest size at 25 fps or more (else the largest
// size), at its highest rate. Null when the camera offers no MJPEG at a fixed size.
function bestMjpegMode(formats) {
  const mjpeg = formats.find((format) => format.fourcc.trim() === "MJPG");
  if (!mjpeg) return null;
  const modes = mjpeg.sizes.filter((size) => size.kind === "discrete").map((size) => ({
    width: size.width, height: size.height,
    fps: Math.max(0, ...size.rates.map((rate) => (rate.kind === "discrete" ? rate.fps : rate.max_fps))),
  }));
  const score = (mode) => [mode.fps >= 25 ? 1 : 0, mode.width * mode.height, mode.fps];
  modes.sort((a, b) => {
    const [x, y] = [score(a), score(b)];
    return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
  });
  return modes[0] || null;
}

// "Add this camera": a source for it (its stable device name, the best MJPEG mode), saved and
// applied at once - served through the robot when the save answers.
async function addCamera(camera) {
  const taken = new Set(state.entries.map((entry) => entry.name));
  let name = camera.suggested_name || "camera";
  for (let n = 2; taken.has(name); n += 1) name = `${camera.suggested_name}-${n}`;
  const entry = { name, type: "v4l2", device: camera.device };
  const mode = bestMjpegMode(camera.formats);
  if (mode) {
    Object.assign(entry, { width: String(mode.width), height: String(mode.height) });
    if (mode.fps > 0) entry.fps = String(mode.fps);
    entry.format = "MJPG";
  }
  addSource(entry);
  await save();
}

// One camera size with its frame rates: "640x480 @ 30, 15 fps" or "160…1280 x 120…720 (step 16 x 8) @ 5…60 fps".
function sizeText(size) {
  const shape = size.kind === "discrete" ? `${size.width}x${size.height}`
    : `${size.width}…${size.max_width} x ${size.height}…${size.max_height} (step ${size.step_width} x ${size.step_height})`;
  const rates = size.rates.map((rate) => (rate.kind === "discrete" ? `${rate.fps}` : `${rate.min_fps}…${rate.max_fps}`));
  return rates.length ? `${shape} @ ${rates.join(", ")} fps` : shape;
}

function controlsText(list) {
  return list.map((c) => `${c.name}=${c.value}${c.min !== null ? ` (${c.min}…${c.max})` : ""}${c.choices.length ? ` [${c.choices.join("|")}]` : ""}`).join(", ");
}

// ----- start -----------------------------------------------------------------------------------

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("save").addEventListener("click", save);
$("add-source").addEventListener("click", () => addSource());
$("refresh-cameras").addEventListener("click", loadCameras);
$("controls-source").addEventListener("change", loadControls);
$("controls-reset").addEventListener("click", () => controlsAction("/api/controls/reset",
  () => "Every control is back at the camera's default."));
$("controls-keep").addEventListener("click", () => controlsAction("/api/controls/keep", (body) => {
  const kept = Object.entries(body.kept).map(([name, value]) => `${name}: ${value}`).join(", ");
  return kept ? `Kept in the config file: ${kept}` : "All at the camera's defaults: no controls kept in the config file.";
}));

fetch("/api/session", { cache: "no-store" }).then(async (response) => {
  if (response.ok) showApp(await response.json());
  else showLogin("");
}).catch(() => showLogin("the settings page is not reachable"));
