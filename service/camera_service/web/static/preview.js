// The live tile of one image source, shared by the live viewer (app.js) and the extension's
// settings page (settings.js). A tile keeps exactly one GET of frameUrl() in flight and asks
// for the next frame as soon as the previous one is shown; a repeat of the image already
// shown (same X-Acquisition-Time) is neither drawn nor counted, so "fps" is the rate of new
// images. An error answer ({error, message} JSON) is shown over the image until frames come
// back. The tile's element carries data-state (starting/live/error/fault), data-frames and
// data-error for tests.
"use strict";

const RETRY_MS = 1000;
const FPS_WINDOW_MS = 2000;
const REPEAT_WAIT_MS = 10;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

// A 16-bit source (thermal, depth) sends its JPEG view with the raw range it shows
// (X-Value-Range "low..high"); a depth source also its scale (raw value of one metre).
function valueRangeItems(headers, item) {
  const range = headers.get("X-Value-Range");
  if (range === null) return [];
  const [low, high] = range.split("..").map(Number);
  const scale = Number(headers.get("X-Depth-Scale") || 0);
  if (scale > 0) return [item("depth", `${(low / scale).toFixed(2)}–${(high / scale).toFixed(2)} m`)];
  return [item("range", `${low}–${high}`)];
}

class Tile {
  constructor(service, source, frameUrl) {
    this.service = service;
    this.source = source;
    this.frameUrl = frameUrl;
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
      ...valueRangeItems(headers, item),
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
