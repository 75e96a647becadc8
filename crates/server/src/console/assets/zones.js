// posbon console: the zone editor of a camera's page (/console/cameras/{id}), served from the
// binary under the page's CSP (script-src 'self'; no inline script or style).
//
// Over the camera's redacted snapshot it draws the zones and lines of the TOML in the page's
// textarea, and lets the user click points to add a polygon zone or a two-point line (its
// direction shown by an arrow, side A on the arrow's left as the pipeline defines it) with a
// rule. What it adds is written into the textarea as TOML; the form's Save sends it, and the
// server checks it with the pipeline's own validation. Without this script the textarea is the
// editor.
//
// Coordinates: the pipeline's zones and lines are normalised (0..1 of the frame's width and
// height, x right, y down). Clicks are taken in the picture's own pixels (its natural size) and
// divided by that size.
"use strict";
(function () {
  var NS = "http://www.w3.org/2000/svg";

  // Rule kinds the editor offers for each shape, with their defaults.
  var KINDS = {
    zone_enter: { shape: "zone", suffix: "intrusion", classes: "person", seconds: "1" },
    loitering: { shape: "zone", suffix: "loitering", classes: "person", seconds: "20" },
    crowding: { shape: "zone", suffix: "crowding", classes: "person", seconds: "2", count: "8" },
    object_left: { shape: "zone", suffix: "left-object", classes: "backpack, handbag, suitcase", seconds: "30" },
    line_cross: { shape: "line", suffix: "crossing", classes: "person" },
    none: { shape: "any", suffix: "" }
  };

  // ---- reading the TOML (only what is drawn: [[zones]], [[lines]], [[rules]] keys) ----

  function stripComment(line) {
    var quote = null;
    for (var i = 0; i < line.length; i++) {
      var c = line[i];
      if (quote) {
        if (c === "\\" && quote === "\"") { i++; } else if (c === quote) { quote = null; }
      } else if (c === "\"" || c === "'") {
        quote = c;
      } else if (c === "#") {
        return line.slice(0, i);
      }
    }
    return line;
  }

  function depth(text) {
    var d = 0;
    var quote = null;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (quote) {
        if (c === "\\" && quote === "\"") { i++; } else if (c === quote) { quote = null; }
      } else if (c === "\"" || c === "'") { quote = c; } else if (c === "[") { d++; } else if (c === "]") { d--; }
    }
    return d;
  }

  function value(text) {
    var t = text.trim();
    try {
      if (t[0] === "\"") { return JSON.parse(t); }
      if (t[0] === "'") { return t.slice(1, t.lastIndexOf("'")); }
      if (t[0] === "[") { return JSON.parse(t.replace(/,\s*\]/g, "]").replace(/'/g, "\"")); }
    } catch (e) {
      return undefined;
    }
    var n = Number(t.replace(/_/g, ""));
    return isNaN(n) ? undefined : n;
  }

  function parseToml(text) {
    var out = { zones: [], lines: [], rules: [] };
    var cur = null;
    var rows = text.split(/\r?\n/);
    for (var i = 0; i < rows.length; i++) {
      var l = stripComment(rows[i]).trim();
      if (!l) { continue; }
      var head = /^\[\[\s*(zones|lines|rules)\s*\]\]$/.exec(l);
      if (head) { cur = {}; out[head[1]].push(cur); continue; }
      if (l[0] === "[") { cur = null; continue; }
      var kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(l);
      if (!kv || !cur) { continue; }
      var v = kv[2];
      while (depth(v) > 0 && i + 1 < rows.length) { v += " " + stripComment(rows[++i]); }
      cur[kv[1]] = value(v);
    }
    return out;
  }

  function isPoint(p) {
    return Array.isArray(p) && p.length === 2 && typeof p[0] === "number" && typeof p[1] === "number";
  }

  // ---- writing TOML ----

  function str(s) { return JSON.stringify(s); }

  function num(v) {
    var s = String(Number(v.toFixed(4)));
    return s.indexOf(".") < 0 ? s + ".0" : s;
  }

  function pt(p) { return "[" + num(p[0]) + ", " + num(p[1]) + "]"; }

  start();

  function start() {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
      return;
    }
    var img = document.getElementById("snapshot");
    var svg = document.getElementById("zone-overlay");
    var area = document.getElementById("config_toml");
    if (!img || !svg || !area) { return; }
    if (img.complete) {
      if (img.naturalWidth > 0) { editor(img, svg, area); } else { noPicture(); }
    } else {
      img.addEventListener("load", function () { editor(img, svg, area); });
      img.addEventListener("error", noPicture);
    }
  }

  function noPicture() {
    var stage = document.getElementById("zone-stage");
    var msg = document.getElementById("no-snapshot");
    if (stage) { stage.hidden = true; }
    if (msg) { msg.hidden = false; }
  }

  function editor(img, svg, area) {
    var W = img.naturalWidth;
    var H = img.naturalHeight;
    var unit = Math.max(W, H) / 100;
    var el = function (id) { return document.getElementById(id); };
    var tools = el("zone-tools");
    var shapeSel = el("zone-shape");
    var kindSel = el("zone-kind");
    var nameIn = el("zone-name");
    var classesIn = el("zone-classes");
    var dirSel = el("zone-direction");
    var secondsIn = el("zone-seconds");
    var countIn = el("zone-count");
    var finishBtn = el("zone-finish");
    var undoBtn = el("zone-undo");
    var clearBtn = el("zone-clear");
    var status = el("zone-status");
    var draft = [];
    var parsed = parseToml(area.value);

    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("preserveAspectRatio", "none");
    tools.hidden = false;

    function say(text) { status.textContent = text; }

    function node(tag, attrs, parent) {
      var n = document.createElementNS(NS, tag);
      Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
      (parent || svg).appendChild(n);
      return n;
    }

    function px(p) { return [p[0] * W, p[1] * H]; }

    function label(text, at, cls) {
      var t = node("text", { x: at[0], y: at[1], "font-size": 3 * unit, "class": cls || "zone-label" });
      t.textContent = text;
    }

    function arrowHead(tip, dir, cls) {
      var len = Math.hypot(dir[0], dir[1]) || 1;
      var ux = dir[0] / len;
      var uy = dir[1] / len;
      var s = 2.4 * unit;
      var back = [tip[0] - ux * s, tip[1] - uy * s];
      var pts = [tip, [back[0] - uy * s * 0.5, back[1] + ux * s * 0.5], [back[0] + uy * s * 0.5, back[1] - ux * s * 0.5]];
      node("polygon", { points: pts.map(function (p) { return p.join(","); }).join(" "), "class": cls });
    }

    // A directed line: the line with an arrow at `to`, A and B on their sides, and for each
    // direction a crossing rule watches, an arrow across the line from one side to the other.
    function drawLine(name, from, to, directions, cls) {
      var a = px(from);
      var b = px(to);
      var d = [b[0] - a[0], b[1] - a[1]];
      var len = Math.hypot(d[0], d[1]) || 1;
      var n = [d[1] / len, -d[0] / len]; // towards side A (the arrow's left on the picture)
      var mid = [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
      node("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], "class": "line " + cls });
      arrowHead(b, d, "arrow " + cls);
      var off = 5 * unit;
      label("A", [mid[0] + n[0] * off, mid[1] + n[1] * off], "side-label");
      label("B", [mid[0] - n[0] * off, mid[1] - n[1] * off], "side-label");
      label(name, [a[0] + 1.5 * unit, a[1] - 1.5 * unit]);
      directions.forEach(function (dir) {
        if (dir !== "A->B" && dir !== "B->A" && dir !== "any") { return; }
        var k = 3 * unit;
        var pa = [mid[0] + n[0] * k, mid[1] + n[1] * k];
        var pb = [mid[0] - n[0] * k, mid[1] - n[1] * k];
        node("line", { x1: pa[0], y1: pa[1], x2: pb[0], y2: pb[1], "class": "crossing" });
        if (dir !== "B->A") { arrowHead(pb, [pb[0] - pa[0], pb[1] - pa[1]], "crossing-head"); }
        if (dir !== "A->B") { arrowHead(pa, [pa[0] - pb[0], pa[1] - pb[1]], "crossing-head"); }
      });
    }

    function redraw() {
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      parsed.zones.forEach(function (z) {
        if (!Array.isArray(z.polygon) || z.polygon.length < 3 || !z.polygon.every(isPoint)) { return; }
        var pts = z.polygon.map(px);
        node("polygon", { points: pts.map(function (p) { return p.join(","); }).join(" "), "class": "zone saved" });
        label(String(z.name), [pts[0][0] + unit, pts[0][1] + 3.5 * unit]);
      });
      parsed.lines.forEach(function (l) {
        if (!isPoint(l.from) || !isPoint(l.to)) { return; }
        var dirs = parsed.rules.filter(function (r) { return r.kind === "line_cross" && r.line === l.name; })
          .map(function (r) { return r.direction || "any"; });
        drawLine(String(l.name), l.from, l.to, dirs, "saved");
      });
      if (draft.length === 0) { return; }
      var pts = draft.map(px);
      if (shapeSel.value === "line" && draft.length === 2) {
        drawLine(nameIn.value.trim() || "new line", draft[0], draft[1],
          kindSel.value === "line_cross" ? [dirSel.value] : [], "draft");
      } else {
        node(draft.length >= 3 ? "polygon" : "polyline",
          { points: pts.map(function (p) { return p.join(","); }).join(" "), "class": "zone draft" });
      }
      pts.forEach(function (p, i) {
        node("circle", { cx: p[0], cy: p[1], r: (i === 0 ? 1.2 : 0.9) * unit, "class": "vertex" });
      });
    }

    function need() { return shapeSel.value === "line" ? 2 : 3; }

    function refresh() {
      var line = shapeSel.value === "line";
      finishBtn.textContent = line ? "Add line" : "Close polygon";
      finishBtn.disabled = draft.length < need();
      undoBtn.disabled = draft.length === 0;
      var kind = kindSel.value;
      document.querySelectorAll("#zone-tools [data-kinds]").forEach(function (f) {
        f.hidden = f.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
      });
      redraw();
    }

    function chooseShape() {
      var shape = shapeSel.value;
      var first = null;
      Array.prototype.forEach.call(kindSel.options, function (o) {
        var fits = KINDS[o.value] && (KINDS[o.value].shape === shape || KINDS[o.value].shape === "any");
        o.hidden = !fits;
        o.disabled = !fits;
        if (fits && first === null) { first = o.value; }
      });
      if (kindSel.selectedOptions.length === 0 || kindSel.selectedOptions[0].disabled) {
        kindSel.value = first;
        chooseKind();
      }
      if (shape === "line" && draft.length > 2) { draft = draft.slice(0, 2); }
      refresh();
    }

    function chooseKind() {
      var k = KINDS[kindSel.value] || KINDS.none;
      if (k.classes !== undefined) { classesIn.value = k.classes; }
      if (k.seconds !== undefined) { secondsIn.value = k.seconds; }
      if (k.count !== undefined) { countIn.value = k.count; }
      refresh();
    }

    function taken(list, name) {
      return list.some(function (x) { return x.name === name; });
    }

    function unique(list, name) {
      var n = name;
      for (var i = 2; taken(list, n); i++) { n = name + "-" + i; }
      return n;
    }

    // The [[rules]] table for the shape just drawn, or "" for none; throws a message when a
    // parameter is wrong.
    function ruleToml(kind, target) {
      var k = KINDS[kind];
      if (!k || kind === "none") { return ""; }
      var out = "[[rules]]\nname = " + str(unique(parsed.rules, target + "-" + k.suffix)) + "\nkind = " + str(kind) + "\n";
      out += (kind === "line_cross" ? "line = " : "zone = ") + str(target) + "\n";
      var classes = classesIn.value.split(",").map(function (c) { return c.trim(); }).filter(Boolean);
      if (classes.length > 0) { out += "classes = [" + classes.map(str).join(", ") + "]\n"; }
      if (kind === "line_cross") {
        out += "direction = " + str(dirSel.value) + "\n";
      } else {
        var s = Number(secondsIn.value);
        if (secondsIn.value.trim() === "" || !isFinite(s) || s < 0) {
          throw "Seconds must be a number of seconds, 0 or more (e.g. 20).";
        }
        if (s > 0 || kind === "loitering" || kind === "object_left") { out += "min_duration_s = " + num(s) + "\n"; }
      }
      if (kind === "crowding") {
        var c = Number(countIn.value);
        if (!Number.isInteger(c) || c < 1) { throw "How many make a crowd must be a whole number, 1 or more."; }
        out += "min_count = " + c + "\n";
      }
      return out;
    }

    function finish() {
      var line = shapeSel.value === "line";
      var name = nameIn.value.trim();
      if (draft.length < need()) { return say(line ? "Click two points: where the line starts and where it ends." : "Click at least three corners."); }
      if (!name) { nameIn.focus(); return say("Name the " + (line ? "line" : "zone") + " first."); }
      if (taken(line ? parsed.lines : parsed.zones, name)) {
        nameIn.focus();
        return say("A " + (line ? "line" : "zone") + " named " + str(name) + " exists already; choose another name.");
      }
      var block;
      try {
        block = (line
          ? "[[lines]]\nname = " + str(name) + "\nfrom = " + pt(draft[0]) + "\nto = " + pt(draft[1]) + "\n"
          : "[[zones]]\nname = " + str(name) + "\npolygon = [" + draft.map(pt).join(", ") + "]\n");
        var rule = ruleToml(kindSel.value, name);
        if (rule) { block += "\n" + rule; }
      } catch (msg) {
        return say(String(msg));
      }
      var text = area.value.replace(/\s+$/, "");
      area.value = (text ? text + "\n\n" : "") + block;
      parsed = parseToml(area.value);
      draft = [];
      nameIn.value = "";
      say("Added " + (line ? "line " : "zone ") + str(name) + " to the TOML below. Save to apply it.");
      refresh();
    }

    svg.addEventListener("click", function (e) {
      var r = svg.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) { return; }
      // the click in the picture's own pixels, then normalised by its natural size
      var x = Math.min(W, Math.max(0, (e.clientX - r.left) * W / r.width));
      var y = Math.min(H, Math.max(0, (e.clientY - r.top) * H / r.height));
      var p = [x / W, y / H];
      if (shapeSel.value === "line" && draft.length >= 2) {
        return say("A line has two points: Add line, or Undo point to move its end.");
      }
      if (shapeSel.value === "zone" && draft.length >= 3) {
        var first = px(draft[0]);
        if (Math.hypot(first[0] - x, first[1] - y) * r.width / W < 10) { return finish(); }
      }
      draft.push(p);
      say(draft.length + (draft.length === 1 ? " point" : " points") + " (x " + num(p[0]) + ", y " + num(p[1]) + ").");
      refresh();
    });
    finishBtn.addEventListener("click", finish);
    undoBtn.addEventListener("click", function () { draft.pop(); refresh(); });
    clearBtn.addEventListener("click", function () { draft = []; say(""); refresh(); });
    shapeSel.addEventListener("change", chooseShape);
    kindSel.addEventListener("change", chooseKind);
    dirSel.addEventListener("change", refresh);
    nameIn.addEventListener("input", refresh);
    nameIn.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); finish(); } });
    area.addEventListener("input", function () { parsed = parseToml(area.value); refresh(); });
    chooseShape();
    chooseKind();
  }
})();
