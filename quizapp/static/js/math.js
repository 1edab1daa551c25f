// Typeset the math that quizapp/core/markdown.py marks up: <span class="math inline">
// and <div class="math block"> hold escaped TeX; KaTeX replaces it in place. A formula
// KaTeX cannot read stays visible as its TeX source, in red, instead of breaking the page.
(function () {
  "use strict";
  function typeset(root) {
    if (typeof katex === "undefined") return;
    root.querySelectorAll(".math:not([data-typeset])").forEach(function (el) {
      var tex = el.textContent.trim();
      el.setAttribute("data-typeset", "");
      katex.render(tex, el, {
        displayMode: el.classList.contains("block"),
        throwOnError: false,
        trust: false,
        maxExpand: 1000,
      });
    });
  }
  window.quizappTypeset = typeset;
  document.addEventListener("DOMContentLoaded", function () { typeset(document); });
})();
