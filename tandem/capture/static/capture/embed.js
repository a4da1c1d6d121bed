/* Tandem form embed: optional. The form works without it; with it, each
 * <form data-tandem-form> also sends the page's UTM tags, referrer and URL.
 * Add data-tandem-inline to a form to send it in the background (JSON + CORS)
 * and show the thank-you message or the errors in place. */
(function () {
  "use strict";
  var TRACKING = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function hidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    if (!input.value && value) { input.value = value; }
  }

  function fill(form) {
    var params = new URLSearchParams(window.location.search);
    TRACKING.forEach(function (name) { hidden(form, name, params.get(name) || ""); });
    hidden(form, "referrer", document.referrer || "");
    hidden(form, "page_url", window.location.href.split("#")[0]);
  }

  function showErrors(form, errors) {
    form.querySelectorAll(".tandem-error").forEach(function (el) { el.remove(); });
    Object.keys(errors).forEach(function (name) {
      var note = document.createElement("p");
      note.className = "tandem-error";
      note.setAttribute("role", "alert");
      note.textContent = errors[name];
      var input = form.querySelector('[name="' + name + '"]');
      if (input && input.parentNode) {
        input.setAttribute("aria-invalid", "true");
        input.parentNode.appendChild(note);
      } else {
        form.insertBefore(note, form.firstChild);
      }
    });
  }

  function inline(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var url = form.action.replace(/\/?$/, "") + ".json";
      fetch(url, { method: "POST", body: new URLSearchParams(new FormData(form)) })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (!body.ok) { showErrors(form, body.errors || {}); return; }
          if (body.redirect) { window.location.assign(body.redirect); return; }
          var done = document.createElement("p");
          done.className = "tandem-thanks";
          done.textContent = body.message || "Thank you!";
          form.replaceWith(done);
        })
        .catch(function () { form.submit(); });
    });
  }

  function init() {
    document.querySelectorAll("form[data-tandem-form]").forEach(function (form) {
      fill(form);
      if (form.hasAttribute("data-tandem-inline")) { inline(form); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
