// The − and + buttons beside a quantity (.stepper): shown only where this script runs; without it the number
// field alone still works. A tap stays within the field's min and max.
document.querySelectorAll(".stepper").forEach(function (box) {
  var input = box.querySelector("input[type=number]");
  box.querySelectorAll("button[data-step]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = (parseInt(input.value, 10) || 0) + parseInt(button.dataset.step, 10);
      var min = parseInt(input.min, 10), max = parseInt(input.max, 10);
      if (!isNaN(min) && next < min) { next = min; }
      if (!isNaN(max) && next > max) { next = max; }
      input.value = next;
    });
  });
});
