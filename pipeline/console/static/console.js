// mimamori patrol console: progressive enhancement. Every page works without this file;
// it adds single-key decisions, lease renewal while a case is open, and "n" for next case.
"use strict";

(function () {
  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  // An input method (Japanese kana-kanji conversion) sends keydown events while composing:
  // isComposing is true, and some browsers report keyCode 229 instead. Never act on those.
  function composing(event) {
    return event.isComposing === true || event.keyCode === 229;
  }

  function shortcutsAllowed(event) {
    return !composing(event) && !event.ctrlKey && !event.altKey && !event.metaKey &&
      !event.repeat && !typing(event.target);
  }

  var main = document.getElementById("main");
  var submitted = false;

  document.addEventListener("keydown", function (event) {
    if (!shortcutsAllowed(event) || submitted) { return; }
    var key = (event.key || "").toLowerCase();
    if (key.length !== 1) { return; }
    var form = document.getElementById("decide");
    if (form) {
      var button = form.querySelector('button[data-key="' + key + '"]');
      if (button) {
        event.preventDefault();
        submitted = true;
        form.requestSubmit(button);
        return;
      }
    }
    if (key === "n") {
      var next = document.getElementById("next-any");
      if (next) { event.preventDefault(); submitted = true; next.form.requestSubmit(next); }
    }
  });

  // A form sent once is not sent again by a second click (the server ignores repeats too).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent === "yes") { event.preventDefault(); return; }
    form.dataset.sent = "yes";
  });

  if (main && main.dataset.page === "case" && main.dataset.held === "yes") {
    var every = Math.max(5, parseInt(main.dataset.renewS || "60", 10)) * 1000;
    var lapsed = function () {
      var notice = document.getElementById("lapsed");
      notice.textContent = main.dataset.lapsedText;
      notice.hidden = false;
      var form = document.getElementById("decide");
      if (form) {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }
    };
    var renew = function () {
      fetch("/cases/" + encodeURIComponent(main.dataset.caseId) + "/renew", {
        method: "POST",
        credentials: "same-origin",
        headers: {"X-CSRF-Token": main.dataset.csrf, "X-Claim-Id": main.dataset.claimId,
                  "Accept": "application/json"}
      }).then(function (response) {
        if (response.status === 409) { lapsed(); clearInterval(timer); }
      }).catch(function () { /* offline for a moment: the next renewal tries again */ });
    };
    var timer = setInterval(renew, every);
    window.addEventListener("focus", renew);
  }
})();
