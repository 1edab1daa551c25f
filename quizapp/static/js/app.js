// Small progressive enhancements; every page works without this file.
"use strict";

// Ask before destructive actions: <button data-confirm="Really?">.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
