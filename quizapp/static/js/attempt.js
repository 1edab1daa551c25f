// The attempt page's timer, autosave and integrity signals. Progressive enhancement:
// without this file every answer is still saved by the page's plain form posts, and
// the server still enforces the deadline.
//
// - Timer: counts down from the server's seconds left (data-remaining), measured with
//   the monotonic performance.now() so a wrong device clock changes nothing, and
//   resynchronises with the server every 30 s (an extension shows at once). Warns at
//   5 and 1 minutes; at zero it sends what is pending and submits.
// - Autosave: every answer is sent as it is given (typing: after a short pause) to the
//   JSON endpoint; failures are retried with backoff and kept in localStorage, so a
//   reload or a dropped connection does not lose them. While no server can take
//   them (no connection, or a 502/503/504 such as the 503 of a database outage),
//   the page's own form posts are held back: one would fail too, and its error page
//   would replace this one.
// - Signals: the page reports when it is hidden or loses focus (for the organisers).
(function () {
  "use strict";
  var root = document.querySelector(".attempt[data-attempt]");
  if (!root) return;
  document.documentElement.classList.add("js");

  var attemptId = root.dataset.attempt;
  var csrfInput = document.querySelector('input[name="csrf_token"]');
  var csrf = csrfInput ? csrfInput.value : "";
  var statusEl = document.getElementById("save-status");
  var storeKey = "quizapp-pending-" + attemptId;
  var finished = false;

  function setStatus(text, failed) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.classList.toggle("save-failed", !!failed);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(body),
      keepalive: true,
    });
  }

  function goToResult(url) {
    if (finished) return;
    finished = true;
    window.location.assign(url || root.dataset.resultUrl || window.location.href);
  }

  // --- autosave queue ------------------------------------------------------------
  var pending = {};
  try { pending = JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { pending = {}; }
  var sending = false;
  var retryDelay = 1000;
  var retryTimer = null;
  var failing = false; // the last send got no answer, or no server to take it
  var held = false; // a form post was held back because of it
  var CONNECTION_PROBLEM = "Connection problem: your answers are kept in this browser and will be sent.";

  function persist() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }

  function enqueue(url, position, body) {
    pending[position] = { url: url, body: body };
    persist();
    setStatus("Saving…");
    flush();
  }

  function flush() {
    if (sending || finished) return Promise.resolve();
    var positions = Object.keys(pending);
    if (!positions.length) return Promise.resolve();
    var position = positions[0];
    var entry = pending[position];
    sending = true;
    return post(entry.url, entry.body).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        sending = false;
        if (response.status < 500) { failing = false; held = false; }
        if (response.ok) {
          if (pending[position] === entry) { delete pending[position]; persist(); }
          retryDelay = 1000;
          markAnswered(position, data.answered);
          var at = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
          var waiting = Object.keys(pending).length || Object.keys(typing).length;
          setStatus(waiting ? "Saving…" : "All answers saved (" + at + ")");
          if (typeof data.remaining_seconds === "number") timer.sync(data.remaining_seconds);
          return flush();
        }
        if (response.status === 409) {
          delete pending[position]; persist();
          setStatus((data.error && data.error.message) || "This attempt has ended.", true);
          goToResult(data.result_url);
          return;
        }
        if (response.status === 422 || response.status === 400 || response.status === 404) {
          delete pending[position]; persist();
          setStatus("Not saved: " + ((data.error && data.error.message) || "the answer could not be read."), true);
          return flush();
        }
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      });
    }).catch(function (error) {
      sending = false;
      // No answer at all, or no server to take it (503: the database is down;
      // 502, 504: nginx found no instance). Not a 401 or a 429, after which a form
      // post still gets its page (the sign-in form, the limit's), nor a 500, a
      // fault of the autosave that the form post may not share.
      failing = !error.status || [502, 503, 504].indexOf(error.status) !== -1;
      setStatus(CONNECTION_PROBLEM + (held ? " Stay on this page until then." : ""), true);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    });
  }

  function markAnswered(position, answered) {
    document.querySelectorAll('.nav-q[data-position="' + position + '"]').forEach(function (button) {
      button.classList.toggle("btn-primary", !!answered);
      button.classList.toggle("btn-outline-secondary", !answered);
      labelNav(button);
    });
  }

  // The navigator button's name says what its colour shows (as presenters.NavEntry).
  function labelNav(button) {
    button.setAttribute("aria-label", "Question " + button.dataset.position + ", " +
      (button.classList.contains("btn-primary") ? "answered" : "not answered") +
      (button.classList.contains("flagged") ? ", flagged for review" : ""));
  }

  function field(container, name) {
    return container.querySelectorAll('[name="' + (container.dataset.prefix || "") + name + '"]');
  }

  function fieldsStartingWith(container, name) {
    var full = (container.dataset.prefix || "") + name;
    return Array.prototype.filter.call(container.querySelectorAll("[name]"), function (el) {
      return el.name.indexOf(full) === 0;
    }).map(function (el) { return { key: el.name.slice(full.length), el: el }; });
  }

  // The answer in the JSON format of quizapp/delivery/responses.py, or undefined when
  // it is not complete enough to save (an ordering with a position missing).
  function answerOf(container) {
    var body = container.querySelector(".question-body");
    var type = body ? body.dataset.type : "";
    var checked = Array.prototype.filter.call(field(container, "response"), function (el) { return el.checked; });
    switch (type) {
      case "single": return checked.length ? parseInt(checked[0].value, 10) : null;
      case "multiple": return checked.map(function (el) { return parseInt(el.value, 10); });
      case "true_false": return checked.length ? checked[0].value === "true" : null;
      case "numeric":
      case "text": return field(container, "response")[0].value;
      case "blanks": {
        var blanks = {};
        fieldsStartingWith(container, "blank-").forEach(function (f) { blanks[f.key] = f.el.value; });
        return blanks;
      }
      case "ordering": {
        var ranks = fieldsStartingWith(container, "rank-");
        var filled = ranks.filter(function (f) { return f.el.value; });
        if (!filled.length) return null;
        var distinct = {};
        filled.forEach(function (f) { distinct[f.el.value] = true; });
        if (filled.length < ranks.length || Object.keys(distinct).length < ranks.length) {
          setStatus("Give each item a different position to save this answer.");
          return undefined;
        }
        return ranks.slice().sort(function (a, b) { return a.el.value - b.el.value; })
          .map(function (f) { return parseInt(f.key, 10); });
      }
      case "matching": {
        var matches = {};
        fieldsStartingWith(container, "match-").forEach(function (f) {
          if (f.el.value) matches[f.key] = parseInt(f.el.value, 10);
        });
        return matches;
      }
    }
    return undefined;
  }

  function saveContainer(container) {
    var answer = answerOf(container);
    if (answer === undefined) return;
    var flag = field(container, "flagged")[0];
    enqueue(container.dataset.saveUrl, container.dataset.position,
      { response: answer, flagged: flag ? flag.checked : false });
    var navFlag = document.querySelector('.nav-q[data-position="' + container.dataset.position + '"]');
    if (navFlag && flag) { navFlag.classList.toggle("flagged", flag.checked); labelNav(navFlag); }
  }

  // Typing is sent after a short pause; until then it waits here, and it goes out at
  // once when the page is left or the time is up.
  var typing = {};
  function stopTyping(position) {
    if (typing[position]) { clearTimeout(typing[position].timer); delete typing[position]; }
  }
  function saveTyping() {
    if (finished) return;
    Object.keys(typing).forEach(function (position) {
      var container = typing[position].container;
      stopTyping(position);
      saveContainer(container);
    });
  }

  document.querySelectorAll("[data-autosave]").forEach(function (container) {
    var position = container.dataset.position;
    container.addEventListener("change", function () {
      stopTyping(position);
      saveContainer(container);
    });
    container.addEventListener("input", function (event) {
      if (event.target.tagName !== "INPUT" || event.target.type !== "text") return;
      stopTyping(position);
      typing[position] = { container: container, timer: setTimeout(saveTyping, 700) };
      setStatus("Saving…");
    });
  });

  // Answers left from a reload while offline go out first.
  if (Object.keys(pending).length) { setStatus("Sending answers kept in this browser…"); flush(); }

  window.addEventListener("pagehide", saveTyping);
  window.addEventListener("beforeunload", function (event) {
    saveTyping();
    if (Object.keys(pending).length && !finished) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  // A plain form post also saves the answer, so nothing pending is lost by navigating.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if ((form.id === "answer-form" || form.id === "all-form") && failing && !finished) {
        event.preventDefault();
        held = true;
        saveTyping();
        clearTimeout(retryTimer);
        retryDelay = 1000;
        setStatus(CONNECTION_PROBLEM + " Stay on this page until then.", true);
        flush();
        return;
      }
      if (form.id === "answer-form" || form.id === "all-form") {
        Object.keys(typing).forEach(stopTyping);
        pending = {}; persist();
      }
      finished = finished || form.id === "submit-form";
    });
  });

  // --- timer ------------------------------------------------------------------------
  var timer = (function () {
    var el = document.getElementById("timer");
    var warning = document.getElementById("timer-warning");
    if (!el) return { sync: function () {} };
    var base = parseInt(el.dataset.remaining, 10);
    var baseAt = performance.now();
    var warned = {};

    function left() { return Math.max(0, base - (performance.now() - baseAt) / 1000); }

    function show(seconds) {
      var s = Math.ceil(seconds);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
      el.textContent = (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(r).padStart(2, "0");
      el.classList.toggle("warning", s <= 300 && s > 60);
      el.classList.toggle("danger", s <= 60);
      el.setAttribute("aria-label", "Time left: " + (h ? h + " hours " : "") + m + " minutes " + r + " seconds");
    }

    function warn(text) {
      warning.textContent = text;
      warning.classList.remove("d-none");
    }

    function tick() {
      var s = left();
      show(s);
      if (s <= 300 && s > 60 && !warned[5] && base > 60) { warned[5] = true; warn("5 minutes left. Your answers are saved as you go."); }
      if (s <= 60 && s > 0 && !warned[1]) { warned[1] = true; warn("1 minute left. What you have saved will be submitted when the time is up."); }
      if (s <= 0) { expire(); return; }
      setTimeout(tick, 250);
    }

    // At zero nothing new can be given and what is pending goes out. The submit
    // waits until the deadline has surely passed (the countdown starts from whole
    // seconds, so it may reach zero up to a second early, and the server counts an
    // early submit as the candidate's own) and the saves are through, 3 s at most.
    function expire() {
      if (finished) return;
      warn("Time is up. Submitting your saved answers…");
      var form = document.getElementById(root.dataset.submitForm);
      saveTyping();
      root.querySelectorAll("input, select, textarea, button").forEach(function (el) {
        if (el.form !== form) el.disabled = true;
      });
      flush();
      var zeroAt = performance.now();
      (function submitWhenSent() {
        if (finished) return;
        var waited = performance.now() - zeroAt;
        if (waited >= 3000 || (waited >= 1000 && !sending && !Object.keys(pending).length)) {
          finished = true;
          form.submit();
          return;
        }
        setTimeout(submitWhenSent, 100);
      })();
    }

    tick();
    return {
      sync: function (seconds) {
        if (Math.abs(seconds - left()) >= 1) { base = seconds; baseAt = performance.now(); }
        if (seconds > 300) { warned = {}; warning.classList.add("d-none"); }
      },
    };
  })();

  function resync() {
    fetch(root.dataset.stateUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return;
        if (state.status !== "in_progress") { goToResult(state.result_url); return; }
        if (typeof state.remaining_seconds === "number") timer.sync(state.remaining_seconds);
      })
      .catch(function () { /* offline: the local countdown carries on */ });
  }
  setInterval(resync, 30000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) resync(); });

  // --- integrity signals ------------------------------------------------------------
  var lastSignal = {};
  function signal(kind, detail) {
    var now = Date.now();
    if (finished || (lastSignal[kind] && now - lastSignal[kind] < 5000)) return;
    lastSignal[kind] = now;
    post(root.dataset.signalUrl, { kind: kind, detail: detail }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) signal("hidden", "page hidden");
  });
  window.addEventListener("blur", function () { signal("focus_lost", "window lost focus"); });
})();
