// A file input with data-max-bytes refuses a file that is too large before the form is sent, so nothing typed
// in the form is lost to the server's "too large" answer. The message comes from data-too-large (translated).
document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
  var note = document.createElement("p");
  note.className = "error";
  note.setAttribute("role", "alert");
  note.hidden = true;
  input.insertAdjacentElement("afterend", note);
  function check() {
    var file = input.files && input.files[0];
    var tooLarge = Boolean(file) && file.size > Number(input.dataset.maxBytes);
    input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
    note.textContent = tooLarge ? input.dataset.tooLarge : "";
    note.hidden = !tooLarge;
    return !tooLarge;
  }
  input.addEventListener("change", check);
  if (input.form) {
    input.form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); input.focus(); }
    });
  }
});
