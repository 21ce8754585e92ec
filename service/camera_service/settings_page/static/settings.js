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
    const granted = source.granted
      ? `${source.granted.width}×${source.granted.height} @ ${source.granted.fps} (${source.granted.format})` : "—";
    const stateCell = element("td", { class: source.state === "faulted" ? "no" : "" , text: source.state });
    if (source.fault) stateCell.append(element("br"), element("small", { text: source.fault }));
    return element("tr", { "data-source": source.name, "data-state": source.state },
      element("td", { text: source.name }), stateCell,
      element("td", { text: source.fps === null ? "—" : String(source.fps) }),
      element("td", { text: granted }),
      element("td", { text: source.passthrough }));
  });
  $("source-status").querySelector("tbody").replaceChildren(...rows);
  syncTiles(status.sources.map((source) => source.name));
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

// ----- the source editor ---------------------------------------------------------------------

async function loadConfig() {
  const answer = await call("GET", "/api/config");
  if (!answer.ok) return;
  state.schema = answer.body.schema;
  state.entries = answer.body.sources;
  $("config-path").textContent = answer.body.path;
  renderEntries();
}

function fieldInput(index, name, kind, value) {
  const attrs = { "data-index": String(index), "data-field": name, name: `${name}-${index}` };
  let input;
  if (name === "type") {
    input = element("select", attrs,
      ...Object.keys(state.schema.kinds).map((kind) => element("option", { value: kind, text: kind })));
    input.value = value || "v4l2";
  } else {
    input = element("input", { ...attrs, type: kind === "str" ? "text" : "number",
      step: kind === "float" ? "any" : "1" });
    if (name === "device") input.setAttribute("list", "device-choices");
    input.value = value === undefined || value === null ? "" : String(value);
  }
  input.addEventListener("input", () => { state.entries[index][name] = input.value; });
  input.addEventListener("change", () => {
    state.entries[index][name] = input.value;
    if (name === "type") renderEntries();
  });
  return input;
}

function renderEntries() {
  const fields = state.schema.fields;
  const cards = state.entries.map((entry, index) => {
    const kind = entry.type || "v4l2";
    const labels = Object.entries(fields)
      .filter(([name]) => name !== "device" || kind === "v4l2")
      .map(([name, type]) => element("label", {}, name, fieldInput(index, name, type, entry[name]),
        element("p", { class: "field-error", "data-index": String(index), "data-error-for": name })));
    const options = state.schema.kinds[kind] || [];
    const more = element("textarea", { "data-index": String(index), "data-field": state.schema.more,
      placeholder: options.length ? `YAML, e.g. ${options.filter((o) => o !== "device").join(", ")}` : "YAML key: value lines" });
    more.value = entry[state.schema.more] || "";
    more.addEventListener("input", () => { state.entries[index][state.schema.more] = more.value; });
    labels.push(element("label", { class: "wide" }, "more settings (YAML: controls, format, calibration…)", more,
      element("p", { class: "field-error", "data-index": String(index), "data-error-for": state.schema.more })));
    const remove = element("button", { type: "button", class: "remove", text: "Remove" });
    remove.addEventListener("click", () => { state.entries.splice(index, 1); renderEntries(); });
    return element("div", { class: "entry", "data-index": String(index) }, remove,
      element("div", { class: "fields" }, ...labels));
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
    const target = error.index === null || error.index === undefined ? null
      : document.querySelector(`.field-error[data-index="${error.index}"][data-error-for="${error.field || state.schema.more}"]`);
    if (target) {
      target.textContent = `${error.key}: ${error.message}`;
      const input = document.querySelector(`[data-index="${error.index}"][data-field="${error.field || state.schema.more}"]`);
      if (input) input.classList.add("invalid");
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
  const { present, dev_root: devRoot, controls } = answer.body;
  const choices = element("datalist", { id: "device-choices" },
    ...present.filter((camera) => camera.captures).map((camera) => element("option", { value: camera.device })));
  $("device-choices")?.remove();
  document.body.append(choices);
  const rows = present.map((camera) => {
    const use = element("button", { type: "button", text: "Add as source" });
    use.disabled = !camera.captures || Boolean(camera.source);
    use.addEventListener("click", () => addSource({ name: camera.suggested_name, type: "v4l2", device: camera.device }));
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
  const blocks = Object.entries(controls).filter(([, list]) => list.length).map(([source, list]) =>
    element("p", { class: "hint" }, element("b", { text: `${source} controls: ` }), controlsText(list)));
  $("controls").replaceChildren(...blocks);
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

fetch("/api/session", { cache: "no-store" }).then(async (response) => {
  if (response.ok) showApp(await response.json());
  else showLogin("");
}).catch(() => showLogin("the settings page is not reachable"));
