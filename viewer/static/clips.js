// The Clips panel: the clips the robot's Data Acquisition store holds (GET /api/clips, newest
// first, a page at a time), each with Play (its JPEGs as multipart/x-mixed-replace into the
// clip player in the image area) and Download (the .mkv as stored). Uses app.js's $, getJson
// and preview.js's element.
"use strict";

const clips = { nextBefore: null, loading: false };

function clipDetails(clip) {
  const when = new Date(clip.action_time * 1000).toLocaleString();
  const parts = [clip.group, `${when} (robot time)`];
  if (clip.frames !== null) parts.push(`${clip.frames} frames, ${clip.duration_s.toFixed(1)} s`);
  return parts.filter(Boolean).join(" · ");
}

function clipItem(clip) {
  const play = element("button", { type: "button", class: "clip-play", text: "Play" });
  play.addEventListener("click", () => playClip(clip));
  const download = element("a", { href: `/api/clips/${clip.id}/download`, class: "clip-download",
    download: "", text: "Download" });
  return element("li", { class: "clip", "data-clip-id": String(clip.id), "data-source": clip.source },
    element("b", { text: clip.source }), ` ${clip.action}`,
    element("small", { text: clipDetails(clip) }),
    element("div", { class: "clip-actions" }, play, download));
}

// older = true appends the next page below the clips shown; otherwise the list starts again.
async function loadClips(older = false) {
  if (clips.loading) return;
  clips.loading = true;
  const list = $("clips");
  try {
    const query = older && clips.nextBefore !== null ? `?before=${clips.nextBefore}` : "";
    let answer;
    try {
      answer = await getJson(`/api/clips${query}`);
    } catch (err) {
      answer = { ok: false, body: { message: "viewer not reachable" } };
    }
    if (!answer.ok) {
      list.replaceChildren(element("li", { class: "service-error", text: answer.body.message }));
      $("clips-more").hidden = true;
      return;
    }
    const items = answer.body.clips.map(clipItem);
    if (older) list.append(...items);
    else if (items.length) list.replaceChildren(...items);
    else list.replaceChildren(element("li", { class: "hint", text: "No clip in the robot's store yet." }));
    clips.nextBefore = answer.body.next_before;
    $("clips-more").hidden = !answer.body.more;
  } finally {
    clips.loading = false;
  }
}

function playClip(clip) {
  const player = $("clip-player");
  const image = $("clip-image");
  const message = $("clip-message");
  message.hidden = true;
  $("clip-title").textContent = `${clip.source} · ${clip.action}`;
  player.dataset.clipId = String(clip.id);
  player.hidden = false;
  $("no-tiles").hidden = true;
  // A new URL each time, so Play after Play starts the clip again.
  image.src = `/api/clips/${clip.id}/play?start=${Date.now()}`;
  image.onerror = () => explainPlayFailure(clip, message);
}

// The <img> does not show why a clip did not play: ask once more and read the one-line
// error (the answer is JSON then; a clip that plays this time is not read).
async function explainPlayFailure(clip, message) {
  const abort = new AbortController();
  let text = `clip ${clip.id} could not be played`;
  try {
    const response = await fetch(`/api/clips/${clip.id}/play`, { cache: "no-store", signal: abort.signal });
    if (!response.ok) text = (await response.json()).message || text;
  } catch (err) {
    text = "viewer not reachable";
  }
  abort.abort();
  message.textContent = text;
  message.hidden = false;
}

function closeClip() {
  $("clip-image").removeAttribute("src"); // ends the stream
  $("clip-player").hidden = true;
  $("no-tiles").hidden = document.querySelectorAll("#tiles .tile:not(#clip-player)").length > 0;
}

$("clips-refresh").addEventListener("click", () => loadClips(false));
$("clips-more").addEventListener("click", () => loadClips(true));
$("clip-close").addEventListener("click", closeClip);
loadClips(false);
