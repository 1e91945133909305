// Callers waiting, calls in progress and agents, per queue.
(function (c) {
  "use strict";
  function status(word) {
    return c.el("span", { "class": "status status-" + word, text: c.t("status." + word) });
  }
  c.register("queues", function (body, data) {
    if (!data.queues.length) {
      body.appendChild(c.el("p", { "class": "empty", text: c.t("queues.no_queue") }));
    }
    data.queues.forEach(function (queue) {
      var box = c.el("div", { "class": "queue", "data-queue": queue.name }, [
        c.el("h3", { text: queue.name + " — " + queue.waiting + " " + c.t("queues.waiting") }),
      ]);
      if (queue.callers.length) {
        box.appendChild(c.table(queue.name + ": " + c.t("queues.waiting"),
          [c.t("queues.position"), c.t("queues.caller"), c.t("queues.pass"),
           c.t("queues.priority"), c.t("queues.waited")],
          queue.callers.map(function (caller) {
            return { attrs: { "data-caller": caller.id, "class": "caller" },
                     cells: [String(caller.position), caller.who, caller.pass,
                             caller.priority === null ? null : String(caller.priority),
                             c.since(caller.since)] };
          })));
      } else {
        box.appendChild(c.el("p", { "class": "empty", text: c.t("queues.nobody") }));
      }
      box.appendChild(c.table(queue.name + ": " + c.t("queues.agents"),
        [c.t("queues.agent"), c.t("queues.status"), c.t("queues.calls_taken")],
        queue.members.map(function (member) {
          var state = c.el("span", {}, [status(member.status)]);
          if (member.status === "paused") {
            if (member.paused_reason) state.appendChild(document.createTextNode(" (" + member.paused_reason + ")"));
            if (member.paused_since) {
              state.appendChild(document.createTextNode(" " + c.t("queues.paused_for") + " "));
              state.appendChild(c.since(member.paused_since));
            }
          }
          return [member.name, state, String(member.calls_taken)];
        })));
      body.appendChild(box);
    });
    var calls = c.el("div", { "class": "in-call" }, [c.el("h3", { text: c.t("queues.in_call") })]);
    if (data.in_call.length) {
      calls.appendChild(c.table(c.t("queues.in_call"),
        [c.t("queues.caller"), c.t("queues.agent"), c.t("queues.pass"), c.t("queues.talking")],
        data.in_call.map(function (call) {
          return { attrs: { "data-call": call.id, "class": "call" },
                   cells: [call.who, call.agent, call.pass, c.since(call.since)] };
        })));
    } else {
      calls.appendChild(c.el("p", { "class": "empty", text: c.t("queues.none_in_call") }));
    }
    body.appendChild(calls);
  });
})(window.CallrouterConsole);
