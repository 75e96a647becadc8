// posbon console: the only script, served from the binary under the page's CSP (script-src 'self').
// Pages work without it; it adds the map's click panel and asks before a dismissal or disabling.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var info = document.getElementById("map-info");
  function show(g) {
    if (!info) return;
    var name = g.getAttribute("data-name");
    var count = g.getAttribute("data-count");
    var synthetic = g.getAttribute("data-synthetic") === "true";
    info.textContent = "";
    var h = document.createElement("h2");
    h.textContent = name;
    var p = document.createElement("p");
    p.className = "map-count";
    p.textContent = count + (count === "1" ? " incident" : " incidents");
    info.appendChild(h);
    info.appendChild(p);
    if (synthetic) {
      var s = document.createElement("p");
      s.className = "muted";
      s.textContent = "Synthetic mahalla (demo data, not a real place).";
      info.appendChild(s);
    }
    document.querySelectorAll("g.mahalla.selected").forEach(function (e) { e.classList.remove("selected"); });
    g.classList.add("selected");
  }
  document.querySelectorAll("g.mahalla").forEach(function (g) {
    g.addEventListener("click", function () { show(g); });
    g.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { show(g); } });
  });
  document.querySelectorAll("form.dismiss, form.inline").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var b = f.querySelector("button");
      if (b && b.classList.contains("dismiss") && !window.confirm(b.textContent + "?")) { e.preventDefault(); }
    });
  });
});
