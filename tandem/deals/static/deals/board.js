// The deal board: drag a card to another stage's column. The move posts to the same view
// as the card's "Move to" form (which works by keyboard and without script) and puts the
// board it answers with in place, totals and all. No inline script (CSP: script-src 'self').
(function () {
  "use strict";
  var dragged = null;

  function board() { return document.getElementById("board"); }

  function columnOf(target) {
    return target && target.closest ? target.closest("#board .column[data-stage]") : null;
  }

  function unmark() {
    var marked = document.querySelectorAll("#board .column.drop-here");
    for (var i = 0; i < marked.length; i++) marked[i].classList.remove("drop-here");
  }

  // After a move the board is new: the moved card's "Move to" list (or its link) gets the
  // focus back, so a keyboard user carries on where they were.
  function focusMoved(root) {
    if (!root || !root.dataset.moved) return;
    var card = document.getElementById("deal-" + root.dataset.moved);
    if (!card) return;
    var target = card.querySelector("select") || card.querySelector("a");
    if (target) target.focus();
  }

  function say(text) {
    var status = document.getElementById("board-status");
    if (status) status.textContent = text;
  }

  function send(card, stage) {
    var form = card.querySelector("form.move-form");
    if (!form) return;
    var data = new FormData(form);
    data.set("stage", stage);
    say("Moving…");
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": data.get("csrfmiddlewaretoken") || "" }
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 422) {
        window.location.reload();  // refused (403) or gone (404): show the board as it is
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html === null) return;
      var old = board();
      if (!old) return;
      old.outerHTML = html;
      var fresh = board();
      if (window.htmx && fresh) window.htmx.process(fresh);
      focusMoved(fresh);
    }).catch(function () { say("The move did not reach the server. Try again."); });
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest ? e.target.closest("#board .deal-card[draggable='true']") : null;
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.deal);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    unmark();
  });

  document.addEventListener("dragover", function (e) {
    var column = dragged ? columnOf(e.target) : null;
    if (!column) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-here")) {
      unmark();
      column.classList.add("drop-here");
    }
  });

  document.addEventListener("drop", function (e) {
    var column = dragged ? columnOf(e.target) : null;
    if (!column) return;
    e.preventDefault();
    var card = dragged;
    unmark();
    if (column.dataset.stage === card.dataset.stage) return;
    column.querySelector(".cards").appendChild(card);  // shown at once; the answer corrects it
    send(card, column.dataset.stage);
  });

  // A refused move (422) answers with the board and the reason: htmx swaps it in too.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    if (e.detail.xhr.status === 422 && target && target.id === "board") {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target && e.target.id === "board") focusMoved(e.target);
  });
})();
