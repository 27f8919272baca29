// The search box's suggestions (a combobox, WAI-ARIA 1.2): after a short pause in typing, the shop's own
// /produk/saran answers up to 8 product names; arrows move through them, Enter takes one, Escape closes.
// Without JavaScript the box is a plain search form.
(function () {
  var input = document.querySelector("input[data-suggest-url]");
  if (!input || !window.fetch) return;
  var list = document.getElementById(input.getAttribute("aria-controls"));
  var timer = null, active = -1, asked = "";

  function close() {
    list.hidden = true; list.innerHTML = ""; active = -1;
    input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
  }
  function mark(index) {
    var options = list.querySelectorAll("[role=option]");
    options.forEach(function (option, n) { option.setAttribute("aria-selected", n === index ? "true" : "false"); });
    active = index;
    if (index >= 0) input.setAttribute("aria-activedescendant", options[index].id);
    else input.removeAttribute("aria-activedescendant");
  }
  function take(name) { input.value = name; close(); input.form.submit(); }
  function show(names) {
    list.innerHTML = "";
    names.forEach(function (name, n) {
      var option = document.createElement("li");
      option.id = "search-suggestion-" + n; option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false"); option.textContent = name;
      option.addEventListener("mousedown", function (event) { event.preventDefault(); take(name); });
      list.appendChild(option);
    });
    list.hidden = names.length === 0;
    input.setAttribute("aria-expanded", names.length ? "true" : "false");
    active = -1;
  }
  function ask() {
    var typed = input.value.trim();
    if (typed.length < 2) { close(); return; }
    if (typed === asked) return;
    asked = typed;
    fetch(input.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(typed), {headers: {Accept: "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : {suggestions: []}; })
      .then(function (data) { if (data.q === input.value.trim()) show(data.suggestions || []); })
      .catch(close);
  }
  input.addEventListener("input", function () { window.clearTimeout(timer); timer = window.setTimeout(ask, 250); });
  input.addEventListener("keydown", function (event) {
    var count = list.querySelectorAll("[role=option]").length;
    if (event.key === "ArrowDown" && count) { event.preventDefault(); mark((active + 1) % count); }
    else if (event.key === "ArrowUp" && count) { event.preventDefault(); mark(active <= 0 ? count - 1 : active - 1); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); take(list.children[active].textContent); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", function () { window.setTimeout(close, 150); });
})();
