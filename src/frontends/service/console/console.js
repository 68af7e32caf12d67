// The reviewer console. Plain DOM, no framework, no build step: served as is by the binary.
// Every value from a report (file metadata among them) is put on the page as text, never as HTML.
"use strict";

const state = { token: sessionStorage.getItem("idforensics.token") || "", session: null };
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** Calls the API with the bearer token; throws the server's reason and message on failure. */
async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (body) headers["Content-Type"] = "application/octet-stream";
  const response = await fetch(path, { method, headers, body });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`${answer.reason || response.status}: ${answer.message || response.statusText}`);
  }
  return answer;
}

async function signIn() {
  state.token = $("token").value.trim() || state.token;
  try {
    state.session = await api("GET", "/api/session");
    sessionStorage.setItem("idforensics.token", state.token);
    $("session").textContent = `signed in as ${state.session.name} (${state.session.role})`;
  } catch (error) {
    state.session = null;
    $("session").textContent = error.message;
  }
  $("register-option").hidden = !(state.session && state.session.may_register);
}

function evidenceText(evidence) {
  return Object.entries(evidence || {})
    .map(([name, value]) => `${name}=${typeof value === "number" ? +value.toFixed(4) : value}`)
    .join("  ");
}

/** The homography from the unit square to the quad (tl, tr, br, bl), as a point mapper. */
function quadMapper(corners) {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = corners;
  const dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
  const sx = x0 - x1 + x2 - x3, sy = y0 - y1 + y2 - y3;
  const det = dx1 * dy2 - dx2 * dy1 || 1e-9;
  const g = (sx * dy2 - dx2 * sy) / det, h = (dx1 * sy - sx * dy1) / det;
  const a = x1 - x0 + g * x1, b = x3 - x0 + h * x3, d = y1 - y0 + g * y1, e = y3 - y0 + h * y3;
  return (u, v) => {
    const w = g * u + h * v + 1;
    return [(a * u + b * v + x0) / w, (d * u + e * v + y0) / w];
  };
}

function polygon(points, cls, label) {
  const group = el("svg:g", { class: cls });
  group.append(el("svg:polygon", {
    points: points.map((p) => p.join(",")).join(" "),
    fill: "none", "stroke-width": "3", "vector-effect": "non-scaling-stroke",
  }));
  if (label) {
    group.append(el("svg:text", { x: points[0][0] + 4, y: points[0][1] + 16, "font-size": "16", text: label }));
  }
  return group;
}

/** The image with its toggleable overlays: each heatmap, the outline, the zones, finding regions. */
function viewer(file, analysis) {
  const report = analysis.report;
  const photo = el("img", { class: "photo", alt: file.name, src: URL.createObjectURL(file) });
  const frame = el("div", { class: "viewer" }, photo);
  const controls = el("div", { class: "controls" });
  const opacity = el("input", { type: "range", min: "0", max: "100", value: "60", "aria-label": "overlay opacity" });
  const layers = [];
  const toggle = (name, layer, on) => {
    layer.style.display = on ? "" : "none";
    layers.push(layer);
    frame.append(layer);
    const box = el("input", { type: "checkbox", "data-layer": name });
    box.checked = on;
    box.addEventListener("change", () => { layer.style.display = box.checked ? "" : "none"; });
    controls.append(el("label", {}, box, " " + name));
  };
  for (const heatmap of analysis.heatmaps) {
    const image = el("img", { class: "layer heatmap", alt: heatmap.name, src: "data:image/png;base64," + heatmap.png_base64 });
    toggle(heatmap.name, image, false);
  }
  photo.addEventListener("load", () => {
    const [w, h] = [photo.naturalWidth, photo.naturalHeight];
    const svgLayer = (color) => el("svg:svg", { class: "layer", viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", stroke: color, fill: color });
    const corners = report.document.corners;
    const outline = svgLayer("#2f6fde");
    outline.append(polygon(corners, "outline", report.document.located ? "document" : "frame"));
    toggle("document outline", outline, true);
    const zones = svgLayer("#7b3fc4");
    const map = quadMapper(corners);
    for (const [name, [l, t, r, b]] of Object.entries(analysis.zones)) {
      zones.append(polygon([map(l, t), map(r, t), map(r, b), map(l, b)], "zone", name + " zone"));
    }
    toggle("zones", zones, false);
    const regions = svgLayer("#d93025");
    for (const finding of report.findings) {
      for (const region of finding.regions || []) {
        const { x, y, width, height } = region;
        regions.append(polygon([[x, y], [x + width, y], [x + width, y + height], [x, y + height]], "region", finding.code));
      }
    }
    toggle("finding regions", regions, true);
    const setOpacity = () => layers.forEach((layer) => { layer.style.opacity = opacity.value / 100; });
    opacity.addEventListener("input", setOpacity);
    setOpacity();
  }, { once: true });
  controls.append(el("label", {}, "opacity ", opacity));
  return el("div", {}, controls, frame);
}

function findingsTable(findings) {
  if (!findings.length) return el("p", { class: "note", text: "No findings." });
  const rows = findings.map((finding) => el("tr", { class: "finding" },
    el("td", { text: finding.code }),
    el("td", { class: "severity-" + finding.severity, text: finding.severity }),
    el("td", { text: finding.message }),
    el("td", { class: "evidence", text: evidenceText(finding.evidence) })));
  return el("table", {}, el("tr", {}, ...["code", "severity", "message", "evidence"].map((t) => el("th", { text: t }))), ...rows);
}

function matchesTable(matches) {
  if (!matches.length) return el("p", { class: "note", text: "No other account's document matches." });
  const rows = matches.map((match) => el("tr", { class: "match" },
    el("td", {}, el("button", { class: "link", text: match.account_id, onclick: () => openAccount(match.account_id) })),
    el("td", { text: match.document_id }),
    el("td", { text: match.kind }),
    el("td", { text: match.distance ?? "" }),
    el("td", { text: match.score.toFixed(3) }),
    el("td", { class: "evidence", text: evidenceText(match.evidence) })));
  return el("table", {}, el("tr", {}, ...["account", "document", "kind", "distance", "score", "evidence"].map((t) => el("th", { text: t }))), ...rows);
}

/** What the file says of its own making: its Content Credentials (C2PA) and machine-readable zone. */
function provenanceTable(metrics) {
  const rows = [["Content Credentials", metrics.c2pa_manifest ? "present" : "none"]];
  if (metrics.c2pa_manifest && metrics.c2pa_claim_generator !== undefined) {
    rows.push(["claim generator", metrics.c2pa_claim_generator], ["signer", metrics.c2pa_signer],
      ["signed at", metrics.c2pa_signed_at || "no time stamp"], ["actions", metrics.c2pa_actions],
      ["ingredients", metrics.c2pa_ingredients], ["validation failures", metrics.c2pa_validation_failures || "none"]);
  }
  rows.push(["machine-readable zone", metrics.mrz_found
    ? `${metrics.mrz_format}, ${metrics.mrz_check_digits_passing} check digits passing` : "none found"]);
  return el("table", { class: "provenance" },
    ...rows.map(([name, value]) => el("tr", {}, el("th", { text: name }), el("td", { text: String(value ?? "") }))));
}

async function analyse(file) {
  const result = el("div", { class: "result" }, el("p", { text: `${file.name}: analysing…` }));
  $("results").prepend(result);
  const query = new URLSearchParams({
    account_id: $("account-id").value.trim(),
    document_id: $("document-id").value.trim(),
    register: String($("register").checked && !$("register-option").hidden),
  });
  try {
    const analysis = await api("POST", "/api/analyze?" + query, file);
    const report = analysis.report;
    const head = el("div", { class: "result-head" },
      el("strong", { text: file.name }),
      el("span", { class: "decision " + report.decision, text: report.decision }),
      el("span", { text: `risk ${report.risk_score.toFixed(3)}` }),
      el("span", { class: "note", text: `${report.image.width}×${report.image.height} ${report.image.format}, policy ${report.policy_version}` + (report.registration ? ", registered" : "") }));
    result.replaceChildren(head, el("div", { class: "columns" },
      viewer(file, analysis),
      el("div", {}, el("h3", { text: "Findings" }), findingsTable(report.findings),
        el("h3", { text: "Matches" }), matchesTable(report.matches),
        el("h3", { text: "Provenance" }), provenanceTable(report.tamper.metrics))));
  } catch (error) {
    result.replaceChildren(el("p", { class: "error", text: `${file.name}: ${error.message}` }));
  }
}

/** The linked-account cluster as a small graph: accounts on a circle, one line per link. */
function clusterGraph(cluster, focus) {
  const size = 320, centre = size / 2, radius = size / 2 - 50;
  const position = new Map(cluster.account_ids.map((id, i) => {
    const angle = (2 * Math.PI * i) / cluster.account_ids.length - Math.PI / 2;
    return [id, [centre + radius * Math.cos(angle), centre + radius * Math.sin(angle)]];
  }));
  const svg = el("svg:svg", { class: "graph", width: size, height: size, viewBox: `0 0 ${size} ${size}` });
  for (const link of cluster.links) {
    const [[x1, y1], [x2, y2]] = [position.get(link.account_a), position.get(link.account_b)];
    const line = el("svg:line", { x1, y1, x2, y2, stroke: "#b3261e", "stroke-width": "2" });
    line.append(el("svg:title", { text: `${link.kind}: ${link.document_a} ↔ ${link.document_b}` }));
    svg.append(line);
  }
  for (const [id, [x, y]] of position) {
    const node = el("svg:g", { class: "account-node", onclick: () => openAccount(id) },
      el("svg:circle", { cx: x, cy: y, r: 9, fill: id === focus ? "#2f6fde" : "#fff", stroke: "#1d2733", "stroke-width": "2" }),
      el("svg:text", { x, y: y + 24, "text-anchor": "middle", text: id }));
    svg.append(node);
  }
  return svg;
}

async function openAccount(accountId) {
  $("account-query").value = accountId;
  const view = $("account-view");
  view.replaceChildren(el("p", { text: `${accountId}: loading…` }));
  try {
    const account = await api("GET", "/api/accounts/" + encodeURIComponent(accountId));
    const documents = account.documents.length
      ? el("table", {}, el("tr", {}, ...["document", "decision", "risk", "reasons", "registered"].map((t) => el("th", { text: t }))),
        ...account.documents.map((doc) => el("tr", {},
          el("td", { text: doc.document_id }), el("td", { text: doc.decision }), el("td", { text: doc.risk_score.toFixed(3) }),
          el("td", { text: doc.reason_codes.join(", ") }), el("td", { text: new Date(doc.registered_at_unix_ms).toISOString() }))))
      : el("p", { class: "note", text: "No registered documents." });
    const links = account.clusters.length
      ? el("div", { id: "cluster" }, el("p", { text: `Linked with ${account.clusters[0].account_ids.length - 1} other account(s):` }),
        clusterGraph(account.clusters[0], account.account_id),
        el("table", {}, el("tr", {}, ...["account", "document", "kind", "distance", "account", "document"].map((t) => el("th", { text: t }))),
          ...account.clusters[0].links.map((link) => el("tr", {},
            el("td", { text: link.account_a }), el("td", { text: link.document_a }), el("td", { text: link.kind }),
            el("td", { text: link.distance ?? "" }), el("td", { text: link.account_b }), el("td", { text: link.document_b })))))
      : el("p", { class: "note", text: "Not linked to any other account." });
    const parts = [el("h3", { text: `Account ${account.account_id}` }), documents, el("h3", { text: "Linked accounts" }), links];
    if (state.session && state.session.may_forget) {
      parts.push(el("p", {}, el("button", { class: "danger", text: "Forget this account", onclick: () => forget(account.account_id) })));
    }
    view.replaceChildren(...parts);
    $("account-section").scrollIntoView();
  } catch (error) {
    view.replaceChildren(el("p", { class: "error", text: error.message }));
  }
}

async function forget(accountId) {
  if (!confirm(`Erase every registration of account ${accountId} and its links? This cannot be undone.`)) return;
  try {
    const answer = await api("POST", `/api/accounts/${encodeURIComponent(accountId)}/forget`);
    $("account-view").replaceChildren(el("p", { text: `Account ${accountId} forgotten: ${answer.documents_erased} document(s) erased.` }));
  } catch (error) {
    $("account-view").append(el("p", { class: "error", text: error.message }));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", (event) => { event.preventDefault(); signIn(); });
  $("account-form").addEventListener("submit", (event) => { event.preventDefault(); openAccount($("account-query").value.trim()); });
  $("files").addEventListener("change", (event) => { [...event.target.files].forEach(analyse); event.target.value = ""; });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    [...event.dataTransfer.files].forEach(analyse);
  });
  signIn();
});
