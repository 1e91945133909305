// Today's appointments; the state is a word (and a class for its colour).
(function (c) {
  "use strict";
  c.register("appointments", function (body, data) {
    if (!data.read) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("connecting") }));
      return;
    }
    if (!data.appointments.length) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("appointments.none") }));
      return;
    }
    body.appendChild(c.el("p", { text: c.t("appointments.total", { count: data.appointments.length }) }));
    body.appendChild(c.table(c.t("panel.appointments"),
      [c.t("appointments.at"), c.t("appointments.domain"), c.t("appointments.expert"),
       c.t("appointments.state"), c.t("appointments.number")],
      data.appointments.map(function (a) {
        return { attrs: { "class": "appointment", "data-state": a.state },
                 cells: [a.at.slice(11, 16), a.domain, a.expert,
                         c.el("span", { "class": "status appointment-" + a.state,
                                        text: c.t("appointment." + a.state) }),
                         a.number] };
      })));
  });
})(window.CallrouterConsole);
