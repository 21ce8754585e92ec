// Live viewer page: robot status, image sources grouped by service, one live tile per chosen
// source (the live tile is preview.js, shared with the extension's settings page). Talks only
// to the viewer's own /api (see http_api.py).
"use strict";

const STATUS_POLL_MS = 2000;
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
const keyOf = (service, source) => `${service}\n${source}`;

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

function frameUrl(service, source) {
  const query = new URLSearchParams({ service, source, quality: $("quality").value,
    resize: $("resize").value });
  return `/api/frame?${query}`;
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
        element("small", { text: `${source.cols}×${source.rows}${sixteenBitNote(source)}` })));
    }
    return group;
  });
  box.replaceChildren(...groups);
}

// ----- live tiles ----------------------------------------------------------------------------

// "16-bit thermal" / "16-bit depth" for sources that serve 16-bit values (shown as a JPEG view).
function sixteenBitNote(source) {
  const formats = source.pixel_formats || [];
  if (formats.includes("PIXEL_FORMAT_DEPTH_U16")) return " · 16-bit depth";
  if (formats.includes("PIXEL_FORMAT_GREYSCALE_U16")) return " · 16-bit thermal";
  return "";
}

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
      const tile = new Tile(service, source, () => frameUrl(service, source));
      state.tiles.set(key, tile);
      $("tiles").append(tile.el);
    }
  }
  $("no-tiles").hidden = state.tiles.size > 0 || !$("clip-player").hidden;
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
