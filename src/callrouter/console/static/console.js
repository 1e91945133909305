// The console's core: one EventSource, a full snapshot then deltas, panel renderers
// (static/panels/<key>.js call CallrouterConsole.register), and waiting times that tick.
(function () {
  "use strict";
  var labels = JSON.parse(document.getElementById("console-labels").textContent);
  var renderers = {};
  var panels = {};
  // The hotline's clock: its last reading, when we read it, and how fast it runs.
  var serverAt = Date.now(), localAt = Date.now(), rate = 1;

  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key;
    if (values) {
      Object.keys(values).forEach(function (name) {
        text = text.replace("{" + name + "}", values[name]);
      });
    }
    return text;
  }
  function now() { return serverAt + (Date.now() - localAt) * rate; }
  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + two(m) + ":" + two(s) : m + ":" + two(s);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }
  // A span whose text is the time elapsed since `iso`, kept current every second.
  function since(iso) {
    var span = el("span", { "class": "ticking", "data-since": iso });
    tickOne(span);
    return span;
  }
  function tickOne(span) {
    span.textContent = duration((now() - Date.parse(span.getAttribute("data-since"))) / 1000);
  }
  function table(caption, headers, rows) {
    var head = el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }));
    return el("table", {}, [
      el("caption", { text: caption }),
      el("thead", {}, [head]),
      el("tbody", {}, rows.map(function (cells) {
        var row = el("tr", cells.attrs || {});
        (cells.cells || cells).forEach(function (cell) {
          row.appendChild(el("td", {}, [cell === null || cell === undefined ? t("none") : cell]));
        });
        return row;
      })),
    ]);
  }
  function render(key) {
    var section = document.getElementById("panel-" + key);
    var renderer = renderers[key];
    if (!section || !renderer) return;
    var body = section.querySelector(".panel-body");
    var data = panels[key];
    body.textContent = "";
    if (!data || data.configured === false) {
      body.appendChild(el("p", { "class": "empty", text: t("not_configured") }));
      return;
    }
    renderer(body, data);
  }
  function status(kind) {
    var node = document.getElementById("connection");
    node.className = kind;
    node.textContent = t(kind);
  }
  function receive(event, whole) {
    var message = JSON.parse(event.data);
    serverAt = Date.parse(message.at);
    localAt = Date.now();
    if (typeof message.clock_rate === "number") rate = message.clock_rate;
    if (whole) panels = {};
    Object.keys(message.panels).forEach(function (key) { panels[key] = message.panels[key]; });
    Object.keys(whole ? renderers : message.panels).forEach(render);
    status("live");
  }
  // Set while this page signs out itself: its own stream ending is then no news.
  var leaving = false;
  function connect() {
    var sign_out = document.querySelector("form.sign-out");
    if (sign_out) sign_out.addEventListener("submit", function () { leaving = true; });
    var source = new EventSource("/console/stream");
    source.addEventListener("snapshot", function (event) { receive(event, true); });
    source.addEventListener("delta", function (event) { receive(event, false); });
    source.addEventListener("signed-out", function () {
      source.close();
      if (!leaving) window.location.assign("/console/sign-in?ended");
    });
    source.onerror = function () {
      if (leaving) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (signed out, expired): the page says where to go.
        window.location.assign("/console/");
        return;
      }
      status("reconnecting");
    };
  }
  window.CallrouterConsole = {
    register: function (key, renderer) { renderers[key] = renderer; },
    t: t, el: el, since: since, duration: duration, table: table, now: now,
  };
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll(".ticking"), tickOne);
  }, 1000);
  document.addEventListener("DOMContentLoaded", connect);
})();
