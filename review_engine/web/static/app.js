// School peer review: small enhancements on top of forms that work without JavaScript.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour hangs off
// data- attributes here.
document.addEventListener("DOMContentLoaded", function () {
  // <button data-confirm="Are you sure?"> asks first.
  document.body.addEventListener("click", function (event) {
    var target = event.target.closest("[data-confirm]");
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
});
