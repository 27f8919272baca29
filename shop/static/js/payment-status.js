// The waiting payment page asks the shop (never a third party) every few seconds whether the order or its
// payment changed, and reloads once it has, so a buyer who paid in another app sees "paid" here.
(function () {
  var box = document.querySelector("[data-status-url]");
  if (!box || !window.fetch) return;
  var seen = box.getAttribute("data-status"), tries = 0;
  function ask() {
    tries += 1;
    fetch(box.getAttribute("data-status-url"), {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (now) {
        if (now && now.order + "/" + now.payment !== seen) { window.location.reload(); return; }
        if (tries < 360) window.setTimeout(ask, tries < 30 ? 4000 : 15000);
      })
      .catch(function () { if (tries < 360) window.setTimeout(ask, 15000); });
  }
  window.setTimeout(ask, 4000);
})();
