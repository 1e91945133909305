// 4H callbacks owed, each counting down to its deadline: the standing is a word (on time,
// AT RISK, BREACHED) as well as a colour, and turns by itself at its edges between pushes.
(function (c) {
  "use strict";
  var warnBefore = 1800;
  function standing(left) {
    if (left <= 0) return "breached";
    return left <= warnBefore ? "at-risk" : "on-time";
  }
  function tick(row) {
    var left = (Date.parse(row.getAttribute("data-due")) - c.now()) / 1000;
    var word = standing(left);
    row.setAttribute("data-standing", word);
    var label = row.querySelector(".countdown-standing");
    label.className = "status countdown-standing countdown-" + word;
    label.textContent = c.t("countdown." + word);
    row.querySelector(".countdown").textContent = left > 0
      ? c.duration(left) : c.t("callbacks.overdue", { time: c.duration(-left) });
  }
  c.register("callbacks", function (body, data) {
    if (!data.read) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("connecting") }));
      return;
    }
    warnBefore = data.warn_before_seconds;
    body.appendChild(c.el("p", { text: c.t("callbacks.today", {
      met: data.met_today, breached: data.breached_today, points: data.refunded_points_today }) }));
    if (!data.owed.length) {
      body.appendChild(c.el("p", { "class": "empty ok", text: c.t("callbacks.none") }));
      return;
    }
    var table = c.table(c.t("callbacks.owed"),
      [c.t("callbacks.due"), c.t("callbacks.left"), c.t("callbacks.standing"),
       c.t("callbacks.domain"), c.t("callbacks.number")],
      data.owed.map(function (cb) {
        var state = c.el("span", { "class": "status countdown-standing countdown-" + cb.standing,
                                   text: c.t("countdown." + cb.standing) });
        var word = cb.dialling ? c.el("span", {}, [state, " " + c.t("callbacks.dialling")]) : state;
        return { attrs: { "class": "callback", "data-callback": String(cb.id), "data-due": cb.due,
                          "data-standing": cb.standing },
                 cells: [cb.due.slice(11, 16), c.el("span", { "class": "countdown" }), word,
                         cb.domain, cb.number] };
      }));
    body.appendChild(table);
    Array.prototype.forEach.call(body.querySelectorAll("tr.callback"), tick);
  });
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll("#panel-callbacks tr.callback"), tick);
  }, 1000);
})(window.CallrouterConsole);
