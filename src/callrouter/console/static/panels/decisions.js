// The latest routing decisions, newest first.
(function (c) {
  "use strict";
  c.register("decisions", function (body, data) {
    if (!data.decisions.length) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("decisions.none") }));
      return;
    }
    body.appendChild(c.table(c.t("panel.decisions"),
      [c.t("decisions.at"), c.t("decisions.caller"), c.t("decisions.pass"),
       c.t("decisions.target"), c.t("decisions.reason"), c.t("decisions.latency")],
      data.decisions.map(function (d) {
        return [d.at.slice(11, 19), d.caller || "?", d.pass,
                d.target + (d.queue ? " (" + d.queue + ")" : ""), d.reason || null,
                d.latency_ms + " ms"];
      })));
  });
})(window.CallrouterConsole);
