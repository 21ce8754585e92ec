// The calibrate panel: pick a source, watch the board found on the service (drawn into the
// frame), keep views (by hand or automatically), see coverage and pose spread, solve (on the
// service, in the background), read the RMS error, save and attach the file to the source.
// Uses settings.js's `call` (CSRF token, 401 -> login) and `state`.
"use strict";

const calibrate = { running: false, frameUrl: null, solving: false, source: null };
const cal$ = (id) => document.getElementById(id);

function calMessage(text, good) {
  const box = cal$("cal-message");
  box.hidden = !text;
  box.className = `message ${good ? "ok" : "bad"}`;
  box.textContent = text || "";
}

// The source list, from the config file's sources (refreshed whenever the panel starts).
async function calLoadSources() {
  const { ok, body } = await call("GET", "/api/config");
  if (!ok) return;
  const select = cal$("cal-source");
  const chosen = select.value;
  select.replaceChildren(...body.sources.map((entry) => {
    const option = document.createElement("option");
    option.value = option.textContent = entry.name;
    return option;
  }));
  if (chosen) select.value = chosen;
}

function calRender(status) {
  cal$("cal-views").textContent = `${status.views} (at least ${status.min_views}, at most ${status.max_views})`;
  cal$("cal-detected").textContent = status.detected ? "yes" : "no";
  cal$("cal-coverage").textContent = `${Math.round(status.coverage * 100)} %` +
    (status.missing.length ? ` - not yet: ${status.missing.join(", ")}` : "");
  cal$("cal-distance").textContent = `${status.poses.distance_spread.toFixed(2)}x (nearest / farthest board)`;
  cal$("cal-tilt").textContent = `${Math.round(status.poses.max_tilt * 100)} % foreshortening at most`;
  cal$("cal-hints").replaceChildren(...status.poses.hints.map((hint) => {
    const item = document.createElement("li");
    item.textContent = hint;
    return item;
  }));
  cal$("cal-grid").replaceChildren(...status.grid.map((row) => {
    const tr = document.createElement("tr");
    for (const covered of row) {
      const td = document.createElement("td");
      if (covered) td.className = "covered";
      tr.appendChild(td);
    }
    return tr;
  }));
  const result = cal$("cal-result");
  calibrate.solving = status.solving;
  cal$("cal-solve").disabled = status.solving || status.views < status.min_views;
  cal$("cal-save").disabled = !status.result;
  if (status.solving) {
    result.className = "";
    result.textContent = "solving...";
  } else if (status.error) {
    result.className = "poor";
    result.textContent = status.error;
  } else if (status.result) {
    const r = status.result;
    result.className = r.meaning.split(" ")[0];
    result.textContent = `RMS reprojection error ${r.rms.toFixed(3)} px: ${r.meaning}. ` +
      `fx ${r.fx.toFixed(2)}, fy ${r.fy.toFixed(2)}, cx ${r.cx.toFixed(2)}, cy ${r.cy.toFixed(2)} ` +
      `(${r.width}x${r.height}, ${r.model}); worst view ${r.worst_view.toFixed(3)} px.`;
  } else {
    result.className = "";
    result.textContent = "";
  }
}

// One frame at a time: the next is asked for when this one has arrived (or failed).
function calNextFrame() {
  if (!calibrate.running || !state.session || document.hidden) return; // a hidden tab asks nothing
  const img = cal$("cal-frame");
  img.src = `/api/calibrate/frame?n=${Date.now()}`;
}

async function calAfterFrame() {
  try {
    const { ok, body } = await call("GET", "/api/calibrate");
    if (ok && body.source) calRender(body);
  } finally {
    calNextFrame();
  }
}

async function calStart() {
  calMessage("");
  const { ok, body } = await call("POST", "/api/calibrate/start", {
    source: cal$("cal-source").value, board: cal$("cal-board").value,
    square: Number(cal$("cal-square").value), model: cal$("cal-model").value,
    pattern: cal$("cal-pattern").value,
  });
  if (!ok) return calMessage(body.message, false);
  calibrate.source = body.source;
  cal$("cal-auto").checked = false;
  cal$("cal-run").hidden = false;
  calRender(body);
  if (!calibrate.running) {
    calibrate.running = true;
    calNextFrame();
  }
}

async function calAction(path, body, done) {
  const answer = await call("POST", path, body || {});
  if (!answer.ok) return calMessage(answer.body.message, false);
  if (answer.body.views !== undefined) calRender(answer.body);
  calMessage(done ? done(answer.body) : "", true);
}

cal$("cal-start").addEventListener("click", calStart);
document.addEventListener("visibilitychange", () => { if (!document.hidden) calNextFrame(); });
cal$("cal-source").addEventListener("focus", calLoadSources);
cal$("cal-frame").addEventListener("load", calAfterFrame);
cal$("cal-frame").addEventListener("error", () => {
  // the run is gone (service restarted) or the source failed: say so, try again on Start
  calibrate.running = false;
  calMessage("no frame from the source; check it is running, then Start again", false);
});
cal$("cal-capture").addEventListener("click", () => calAction("/api/calibrate/capture"));
cal$("cal-auto").addEventListener("change", (event) => calAction("/api/calibrate/auto", { on: event.target.checked }));
cal$("cal-clear").addEventListener("click", () => calAction("/api/calibrate/clear"));
cal$("cal-solve").addEventListener("click", () => calAction("/api/calibrate/solve"));
cal$("cal-save").addEventListener("click", () => calAction("/api/calibrate/save", {},
  (body) => `Saved ${body.file} next to the config file; it is the calibration of ${body.source} now (applied).`));

// Fill the source list once logged in (settings.js shows #app then).
new MutationObserver(() => { if (!cal$("app").hidden) calLoadSources(); })
  .observe(cal$("app"), { attributes: true, attributeFilter: ["hidden"] });
if (!cal$("app").hidden) calLoadSources();
