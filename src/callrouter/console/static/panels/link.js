// The PBX link: up or down (as a word), since when, drops since start.
(function (c) {
  "use strict";
  c.register("link", function (body, data) {
    var word = data.up ? "up" : "down";
    var line = c.el("p", { "class": "link link-" + word }, [
      c.el("strong", { "class": "status status-link-" + word, text: c.t("link." + word) }),
    ]);
    if (data.since) {
      line.appendChild(document.createTextNode(" " + c.t("link.since") + " "));
      line.appendChild(c.since(data.since));
    }
    body.appendChild(line);
    body.appendChild(c.el("p", { text: data.drops + " " + c.t("link.drops") }));
  });
})(window.CallrouterConsole);
