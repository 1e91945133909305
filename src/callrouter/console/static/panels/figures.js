// Per queue figures over the sliding window.
(function (c) {
  "use strict";
  function percent(value) { return value === null ? null : Math.round(value * 100) + " %"; }
  function seconds(value) { return value === null ? null : c.duration(value); }
  c.register("figures", function (body, data) {
    body.appendChild(c.el("p", { text: c.t("figures.window", { minutes: data.window_minutes }) }));
    body.appendChild(c.table(c.t("panel.figures"),
      [c.t("figures.queue"), c.t("figures.answered"), c.t("figures.abandoned"),
       c.t("figures.abandon_rate"), c.t("figures.service_level", { seconds: data.service_level_seconds }),
       c.t("figures.average_wait"), c.t("figures.longest_wait"), c.t("figures.longest_now")],
      data.queues.map(function (q) {
        return [q.name, String(q.answered), String(q.abandoned), percent(q.abandon_rate),
                percent(q.service_level), seconds(q.average_wait), seconds(q.longest_wait),
                q.longest_waiting_since ? c.since(q.longest_waiting_since) : null];
      })));
  });
})(window.CallrouterConsole);
