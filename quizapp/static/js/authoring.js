// The question editor, improved: a live preview as the form changes, "New sample"
// and "Preview" without reloading, rows added in place, and image uploads inserted
// into the prompt. Without this file the same buttons post the form and the page
// comes back with the preview (templates/authoring/editor.html).
(function () {
  "use strict";
  var form = document.querySelector("form[data-editor]");
  if (!form || !window.fetch || !window.FormData) return;
  var preview = document.getElementById("preview");
  var sample = form.querySelector("input[name=sample]");
  var timer = null;
  var pending = null;

  function clearErrors() {
    form.querySelectorAll(".js-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[data-errors-for]").forEach(function (el) { el.textContent = ""; });
    form.querySelectorAll(".invalid-feedback:not([data-errors-for])").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".is-invalid").forEach(function (el) {
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
    });
  }

  function message(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div;
  }

  function showErrors(errors) {
    clearErrors();
    Object.keys(errors).forEach(function (name) {
      var field = name ? form.elements.namedItem(name) : null;
      if (field && field.nodeType === 1) {
        var box = document.createElement("div");
        box.className = "invalid-feedback d-block js-error";
        box.id = field.id + "-error";
        errors[name].forEach(function (text) { box.appendChild(message(text)); });
        field.classList.add("is-invalid");
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", box.id);
        var anchor = field.closest(".form-check") || field;
        anchor.insertAdjacentElement("afterend", box);
        return;
      }
      var list = form.querySelector('[data-errors-for="' + name + '"]') ||
        form.querySelector('[data-errors-for=""]');
      errors[name].forEach(function (text) { list.appendChild(message(text)); });
    });
  }

  function refresh() {
    if (pending) pending.abort();
    pending = new AbortController();
    var data = new FormData(form);
    data.delete("image");
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: pending.signal,
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.html !== undefined) {
          preview.innerHTML = body.html;
          if (window.quizappTypeset) window.quizappTypeset(preview);
        }
        if (body.sample) sample.value = body.sample;
        showErrors(body.errors || {});
      })
      .catch(function (error) {
        if (error.name !== "AbortError") preview.textContent = "The preview could not be loaded.";
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("input", function (event) {
    if (event.target.type !== "file") later();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") later();
  });
  form.querySelector("[data-preview]").addEventListener("click", function (event) {
    event.preventDefault();
    refresh();
  });
  form.querySelector("[data-new-sample]").addEventListener("click", function (event) {
    event.preventDefault();
    sample.value = String((parseInt(sample.value, 10) || 1) + 1);
    refresh();
  });

  // Rows: clone the last one, renumbered (choices-2-text -> choices-3-text), empty.
  form.querySelectorAll("[data-add-row]").forEach(function (button) {
    var name = button.dataset.addRow;
    var container = form.querySelector('[data-rows="' + name + '"]');
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      var rows = container.querySelectorAll(".row-entry");
      var last = rows[rows.length - 1];
      if (!last) return;
      var index = rows.length;
      var pattern = new RegExp("^" + name + "-\\d+-");
      var copy = last.cloneNode(true);
      copy.dataset.row = String(index);
      copy.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(pattern, name + "-" + index + "-"));
        });
        if (el.tagName === "INPUT" && el.type === "checkbox") el.checked = false;
        else if (el.tagName === "SELECT") el.selectedIndex = 0;
        else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") el.value = "";
      });
      copy.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
      container.appendChild(copy);
      var first = copy.querySelector("input,textarea,select");
      if (first) first.focus();
    });
  });

  // Upload: send the image alone; put its Markdown into the prompt at the cursor.
  var upload = form.querySelector("[data-upload]");
  var status = form.querySelector("[data-upload-status]");
  upload.addEventListener("click", function (event) {
    event.preventDefault();
    var file = form.elements.namedItem("image");
    if (!file.files.length) {
      status.textContent = "Choose an image file first.";
      return;
    }
    var data = new FormData();
    data.append("csrf_token", form.elements.namedItem("csrf_token").value);
    data.append("image", file.files[0]);
    status.textContent = "Uploading...";
    fetch(form.dataset.uploadUrl, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.error) {
          status.textContent = body.error;
          status.classList.add("text-danger");
          return;
        }
        status.classList.remove("text-danger");
        status.textContent = "Uploaded as " + body.reference + " and added to the prompt.";
        var prompt = form.elements.namedItem("prompt");
        var at = prompt.selectionStart || prompt.value.length;
        prompt.value = prompt.value.slice(0, at) + "\n\n" + body.markdown + "\n\n" + prompt.value.slice(at);
        file.value = "";
        refresh();
      })
      .catch(function () { status.textContent = "The upload failed."; });
  });
})();
