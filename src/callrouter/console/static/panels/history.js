// The chart drawn by the server (SVG), and the same figures as a table for screen readers.
(function (c) {
  "use strict";
  c.register("history", function (body, data) {
    var lang = document.documentElement.lang;
    var figure = c.el("figure", {});
    var holder = c.el("div", { "class": "chart" });
    // The SVG is built by callrouter itself from numbers and escaped texts.
    holder.innerHTML = data.svg[lang] || data.svg.en;
    figure.appendChild(holder);
    figure.appendChild(c.el("figcaption", { text: c.t("history.legend") }));
    body.appendChild(figure);
    var rows = data.buckets.filter(function (b) { return b.answered || b.abandoned || b.peak_waiting; });
    var details = c.el("details", {}, [c.el("summary", { text: c.t("history.title") })]);
    details.appendChild(c.table(c.t("history.title"),
      [c.t("history.start"), c.t("history.answered"), c.t("history.abandoned"), c.t("history.waiting")],
      rows.map(function (b) {
        return [b.start.slice(11, 16), String(b.answered), String(b.abandoned), String(b.peak_waiting)];
      })));
    body.appendChild(details);
  });
})(window.CallrouterConsole);
