// Refunds paid today (read from the ledger every few seconds).
(function (c) {
  "use strict";
  c.register("refunds", function (body, data) {
    if (!data.read) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("connecting") }));
      return;
    }
    body.appendChild(c.el("p", { text: c.t("refunds.total", { count: data.count, points: data.points }) }));
    if (!data.refunds.length) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("refunds.none") }));
      return;
    }
    body.appendChild(c.table(c.t("panel.refunds"),
      [c.t("refunds.at"), c.t("refunds.points"), c.t("refunds.incident"), c.t("refunds.reason")],
      data.refunds.map(function (r) {
        return [r.at.slice(11, 16), String(r.points), r.incident === null ? null : "#" + r.incident, r.reason];
      })));
  });
})(window.CallrouterConsole);
