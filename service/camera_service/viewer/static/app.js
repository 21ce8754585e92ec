// Live viewer page: robot status, image sources grouped by service, one live tile per chosen
// source. Each tile keeps exactly one GetImage request in flight and asks for the next frame
// as soon as the previous one is shown; a repeat of the image already shown (same
// acquisition time) is neither drawn nor counted, so "fps" is the rate of new images. Talks only to the viewer's own /api (see http_api.py).
"use strict";

const STATUS_POLL_MS = 2000;
const RETRY_MS = 1000;
const FPS_WINDOW_MS = 2000;
const REPEAT_WAIT_MS = 10;
const SOURCES_REFRESH_MS = 15000;

const state = {
  services: [],
  selected: new Set(), // keys "service\nsource"
  tiles: new Map(), // key -> Tile
  connected: null,
  autoSelected: false, // the first source listed is shown once, to start with
  sourcesLoadedAt: 0,
  sourcesJson: "",
  loadingSources: false,
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const keyOf = (service, source) => `${service}\n${source}`;

function element(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value);
  }
  el.append(...children);
  return el;
}

async function getJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  let body;
  try {
    body = await response.json();
  } catch (err) {
    body = { error: "bad_answer", message: `${url}: HTTP ${response.status}` };
  }
  return { ok: response.ok, body };
}

function imageSettings() {
  return { quality: $("quality").value, resize: $("resize").value };
}

// ----- robot status ------------------------------------------------------------------------

async function refreshStatus() {
  const pill = $("robot-status");
  let status;
  try {
    status = (await getJson("/api/status")).body;
  } catch (err) {
    pill.className = "status status-bad";
    pill.textContent = "viewer not reachable (was it stopped?)";
    state.connected = false;
    return;
  }
  if (status.connected) {
    pill.className = "status status-ok";
    pill.textContent = `robot ${status.robot} · logged in as ${status.login}`;
  } else if (status.message) {
    pill.className = "status status-bad";
    pill.textContent = status.message;
  } else {
    pill.className = "status status-pending";
    pill.textContent = `connecting to robot ${status.robot}…`;
  }
  // Asking for the sources is also what makes the viewer log in again when the robot is back.
  if (!status.connected || state.connected === false || sourcesStale()) loadSources();
  state.connected = status.connected;
}

// ----- source list -------------------------------------------------------------------------

// Services register and go away while the page is open: the list is fetched again while it
// is empty or shows an error, and otherwise every SOURCES_REFRESH_MS.
function sourcesStale() {
  return state.services.length === 0 || state.services.some((service) => service.error)
    || performance.now() - state.sourcesLoadedAt > SOURCES_REFRESH_MS;
}

async function loadSources() {
  if (state.loadingSources) return;
  state.loadingSources = true;
  try {
    await fetchSources();
  } finally {
    state.loadingSources = false;
  }
}

async function fetchSources() {
  const box = $("sources");
  let answer;
  try {
    answer = await getJson("/api/sources");
  } catch (err) {
    box.replaceChildren(element("p", { class: "service-error", text: "viewer not reachable" }));
    return;
  }
  state.sourcesLoadedAt = performance.now();
  if (!answer.ok) {
    state.sourcesJson = "";
    box.replaceChildren(element("p", { class: "service-error", text: answer.body.message }));
    return;
  }
  state.services = answer.body.services;
  if (!state.autoSelected) {
    const first = state.services.find((service) => service.sources.length > 0);
    if (first) {
      state.autoSelected = true;
      if (state.selected.size === 0) state.selected.add(keyOf(first.name, first.sources[0].name));
    }
  }
  const json = JSON.stringify(state.services);
  if (json !== state.sourcesJson) {
    // Redraw only on change, so a refresh never resets a checkbox being clicked.
    state.sourcesJson = json;
    renderSources();
  }
  syncTiles();
}

function renderSources() {
  const box = $("sources");
  if (state.services.length === 0) {
    box.replaceChildren(
      element("p", { class: "hint", text: "No image service is registered in the robot's directory yet." }),
    );
    return;
  }
  const groups = state.services.map((service) => {
    const group = element("fieldset", { class: "service", "data-service": service.name },
      element("legend", { text: service.name }));
    if (service.error) group.append(element("p", { class: "service-error", text: service.error }));
    for (const source of service.sources) {
      const key = keyOf(service.name, source.name);
      const box = element("input", { type: "checkbox", "data-service": service.name, "data-source": source.name });
      box.checked = state.selected.has(key);
      box.addEventListener("change", () => {
        if (box.checked) state.selected.add(key);
        else state.selected.delete(key);
        syncTiles();
      });
      group.append(element("label", { class: "source" }, box, ` ${source.name} `,
        element("small", { text: `${source.cols}×${source.rows}` })));
    }
    return group;
  });
  box.replaceChildren(...groups);
}

// ----- live tiles ----------------------------------------------------------------------------

function syncTiles() {
  for (const [key, tile] of state.tiles) {
    if (!state.selected.has(key)) {
      tile.stop();
      state.tiles.delete(key);
    }
  }
  for (const key of state.selected) {
    if (!state.tiles.has(key)) {
      const [service, source] = key.split("\n");
      const tile = new Tile(service, source);
      state.tiles.set(key, tile);
      $("tiles").append(tile.el);
    }
  }
  $("no-tiles").hidden = state.tiles.size > 0;
  saveView();
}

// ----- the view in the address (bookmarkable, survives a reload) ---------------------------
// #sources=SERVICE/SOURCE,SERVICE/SOURCE&quality=75&resize=0.5 (form-encoded)

function saveView() {
  // Each name is encoded before joining, so names holding "/" or "," survive the round trip.
  const sources = [...state.selected].map((key) => key.split("\n").map(encodeURIComponent).join("/"));
  const view = new URLSearchParams({
    sources: sources.join(","), quality: $("quality").value, resize: $("resize").value,
  });
  history.replaceState(null, "", `#${view}`);
}

function restoreView() {
  const view = new URLSearchParams(location.hash.slice(1));
  const quality = Number(view.get("quality"));
  if (quality >= 1 && quality <= 100) {
    $("quality").value = String(quality);
    $("quality-value").textContent = $("quality").value;
  }
  const resize = view.get("resize");
  if ([...$("resize").options].some((option) => option.value === resize)) $("resize").value = resize;
  if (!view.has("sources")) return;
  state.autoSelected = true; // the address says what to show, even if that is nothing
  for (const item of view.get("sources").split(",").filter(Boolean)) {
    const [service, source] = item.split("/").map(decodeURIComponent);
    if (service && source) state.selected.add(keyOf(service, source));
  }
}

class Tile {
  constructor(service, source) {
    this.service = service;
    this.source = source;
    this.running = true;
    this.frames = 0;
    this.arrivals = [];
    this.objectUrl = null;
    this.lastAcquired = null;
    this.img = element("img", { alt: `${source} live image` });
    this.message = element("div", { class: "tile-message", role: "alert" });
    this.message.hidden = true;
    this.stats = element("div", { class: "tile-stats", text: "waiting for the first frame…" });
    this.el = element("article",
      { class: "tile", "data-service": service, "data-source": source, "data-state": "starting", "data-frames": "0" },
      element("div", { class: "tile-title" },
        element("b", { text: source }), element("span", { class: "service-name", text: service })),
      element("div", { class: "tile-view" }, this.img, this.message),
      this.stats);
    this.loop();
  }

  frameUrl() {
    const { quality, resize } = imageSettings();
    const query = new URLSearchParams({ service: this.service, source: this.source, quality, resize });
    return `/api/frame?${query}`;
  }

  async loop() {
    while (this.running) {
      const started = performance.now();
      let response;
      try {
        response = await fetch(this.frameUrl(), { cache: "no-store" });
      } catch (err) {
        this.showProblem("viewer_unreachable", "viewer not reachable (was it stopped?)");
        await sleep(RETRY_MS);
        continue;
      }
      if (!response.ok) {
        const body = await response.json().catch(() => ({ error: "error", message: `HTTP ${response.status}` }));
        this.showProblem(body.error, body.message);
        await sleep(RETRY_MS);
        continue;
      }
      const acquired = response.headers.get("X-Acquisition-Time");
      if (acquired !== null && acquired === this.lastAcquired) {
        // The camera has not produced a new image yet: do not redraw or count it, and give
        // it a moment instead of asking again at once.
        await response.arrayBuffer();
        await sleep(REPEAT_WAIT_MS);
        continue;
      }
      this.lastAcquired = acquired;
      try {
        await this.show(response, started);
      } catch (err) {
        this.showProblem("bad_image", `cannot show the image: ${err.message || err}`);
        await sleep(RETRY_MS);
      }
    }
  }

  async show(response, started) {
    const received = performance.now();
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    this.img.src = url;
    await this.img.decode();
    if (!this.running) {
      URL.revokeObjectURL(url);
      return;
    }
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = url;
    const shown = performance.now();
    this.frames += 1;
    this.arrivals.push(shown);
    while (this.arrivals.length > 1 && shown - this.arrivals[0] > FPS_WINDOW_MS) this.arrivals.shift();
    this.el.dataset.frames = String(this.frames);
    this.el.dataset.state = "live";
    this.el.dataset.error = "";
    this.message.hidden = true;
    this.renderStats(response.headers, blob.size, shown - started, shown - received);
  }

  renderStats(headers, bytes, latencyMs, sinceReceivedMs) {
    const span = this.arrivals[this.arrivals.length - 1] - this.arrivals[0];
    const fps = span > 0 ? ((this.arrivals.length - 1) * 1000) / span : 0;
    const serverAge = headers.get("X-Image-Age-Ms");
    const age = serverAge === null ? "n/a" : `${Math.round(Number(serverAge) + sinceReceivedMs)} ms`;
    const item = (label, value) => element("span", {}, `${label} `, element("b", { text: value }));
    this.stats.replaceChildren(
      item("fps", fps.toFixed(1)),
      item("latency", `${Math.round(latencyMs)} ms`),
      item("age", age),
      item("size", `${headers.get("X-Frame-Cols")}×${headers.get("X-Frame-Rows")}`),
      item("jpeg", `${(bytes / 1024).toFixed(0)} kB`),
      item("frames", String(this.frames)),
    );
  }

  showProblem(kind, text) {
    this.el.dataset.state = kind === "source_fault" ? "fault" : "error";
    this.el.dataset.error = kind || "error";
    this.message.textContent = text || "unknown error";
    this.message.hidden = false;
    this.arrivals = [];
  }

  stop() {
    this.running = false;
    this.el.remove();
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
  }
}

// ----- start ---------------------------------------------------------------------------------

$("quality").addEventListener("input", () => {
  $("quality-value").textContent = $("quality").value;
  saveView();
});
$("resize").addEventListener("change", saveView);
$("refresh").addEventListener("click", loadSources);

restoreView();

refreshStatus().then(loadSources);
setInterval(refreshStatus, STATUS_POLL_MS);
