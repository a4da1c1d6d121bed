// The routing rules page: drag to reorder (the Up and Down buttons do the same by keyboard).
(function () {
  // Drag to reorder (the Up and Down buttons do the same by keyboard, without script).
  var list = document.getElementById("routing-rules");
  var save = document.getElementById("reorder-save");
  if (!list || !save) return;
  var dragged = null;
  list.addEventListener("dragstart", function (e) { dragged = e.target.closest("li"); });
  list.addEventListener("dragover", function (e) {
    e.preventDefault();
    var over = e.target.closest("li");
    if (!dragged || !over || over === dragged) return;
    var after = e.clientY > over.getBoundingClientRect().top + over.offsetHeight / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", function (e) { e.preventDefault(); save.hidden = false; });
})();
