// Who is on call now and next (with the hand-off time as the calendar says it).
(function (c) {
  "use strict";
  var LAYERS = ["primary", "secondary", "manager"];
  // The date and time with its offset, as the calendar reads it (2026-12-01 18:00+01:00).
  function when(iso) { return iso.slice(0, 10) + " " + iso.slice(11, 16) + iso.slice(19); }
  function team(caption, names) {
    return c.table(caption, [c.t("oncall.layer"), c.t("oncall.who")],
      LAYERS.map(function (layer) {
        return { attrs: { "data-layer": layer }, cells: [c.t("oncall." + layer), names[layer]] };
      }));
  }
  c.register("oncall", function (body, data) {
    if (!data.read) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("connecting") }));
      return;
    }
    if (data.now) {
      body.appendChild(team(data.until ? c.t("oncall.now_until", { at: when(data.until) })
                                       : c.t("oncall.now"), data.now));
    } else {
      body.appendChild(c.el("p", { "class": "empty",
        text: c.t(data.window_open ? "oncall.nobody" : "oncall.closed") }));
    }
    if (data.next) {
      body.appendChild(team(c.t("oncall.next", { at: when(data.next.at) }), data.next.team));
    } else {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("oncall.no_next") }));
    }
    if (!data.escalations.length) {
      body.appendChild(c.el("p", { "class": "empty ok", text: c.t("oncall.no_escalation") }));
      return;
    }
    // Live emergencies: how far up the layers each went, its waiting time ticking.
    body.appendChild(c.table(c.t("oncall.escalations"),
      [c.t("oncall.caller"), c.t("oncall.waiting"), c.t("oncall.step"), c.t("oncall.pass"),
       c.t("oncall.state"), c.t("oncall.technician")],
      data.escalations.map(function (e) {
        return { attrs: { "class": "escalation", "data-state": e.state },
                 cells: [e.caller, c.since(e.since), c.t("oncall." + e.layer), String(e.pass),
                         c.el("span", { "class": "status escalation-" + e.state,
                                        text: c.t("escalation." + e.state) }),
                         e.technician] };
      })));
  });
})(window.CallrouterConsole);
