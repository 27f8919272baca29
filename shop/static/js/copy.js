// Buttons with data-copy put that text on the clipboard (an account number, an amount to transfer). They stay
// hidden where the browser cannot copy, so nothing on the page pretends to work.
if (navigator.clipboard) {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        button.textContent = button.dataset.copied;
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });
}
