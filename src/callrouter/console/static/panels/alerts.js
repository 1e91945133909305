// Alerts, critical first; the severity is written out, not only coloured.
(function (c) {
  "use strict";
  c.register("alerts", function (body, data) {
    if (!data.alerts.length) {
      body.appendChild(c.el("p", { "class": "empty ok", text: c.t("alerts.none") }));
      return;
    }
    var list = c.el("ul", { "class": "alerts", role: "list" });
    data.alerts.forEach(function (a) {
      list.appendChild(c.el("li", { "class": "alert alert-" + a.severity, "data-alert": a.code }, [
        c.el("strong", { text: c.t("severity." + a.severity) + " : " }),
        c.t("alert." + a.code) + (a.detail ? " " + a.detail : "") + " (" + c.t("alerts.for") + " ",
        c.since(a.since), ")",
      ]));
    });
    body.appendChild(list);
  });
})(window.CallrouterConsole);
