/* Dossier's progressive enhancements. Every page works without this file:
 * - upload forms: drag and drop, several files at once, a progress bar per file (one file:
 *   on to its page when filed; several: each row links to its document);
 * - the document page: polls the extraction status and reloads when the text is ready;
 * - a table that scrolls sideways (on a phone) gets a line saying there is more to the right.
 * Texts come from data-* attributes that the (translated) templates fill in. */
(function () {
  "use strict";

  function texts(doc, selector) {
    var found = [];
    doc.querySelectorAll(selector).forEach(function (el) { found.push(el.textContent.trim()); });
    return found.filter(Boolean).join(" ");
  }

  function refusal(form, html) {
    /* Why an upload was refused, said once: the server's message already says that nothing
     * was filed; only field errors and error pages get "Not filed." in front. The form's
     * introduction (main h1 + p on the upload page) is not a reason. */
    var doc = new DOMParser().parseFromString(html, "text/html");
    var flashed = texts(doc, ".flash-error");
    if (flashed) { return flashed; }
    var reason = texts(doc, ".field-error") || (doc.querySelector("form[data-upload]") ? "" : texts(doc, "main h1 + p"));
    return (form.dataset.msgFailed + " " + reason).trim();
  }

  function filedAt(text) {
    /* The server's JSON answer for a filed document: its address and any warning. */
    try {
      var answer = JSON.parse(text);
      return answer.url ? answer : null;
    } catch (error) {
      return null;
    }
  }

  function row(list, name) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    var bar = document.createElement("progress");
    var state = document.createElement("span");
    label.textContent = name;
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", name);
    state.className = "upload-state";
    item.append(label, bar, state);
    list.appendChild(item);
    return { item: item, bar: bar, state: state };
  }

  function send(form, input, file, many, ui) {
    return new Promise(function (resolve) {
      var data = new FormData(form);
      data.set(input.name, file, file.name);
      if (many) { data.set("title", ""); }  // several files: each keeps its own name as title
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      // Filed: 201 with the document's address, instead of a redirect to a page nobody sees.
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { ui.bar.value = Math.round(100 * event.loaded / event.total); }
      });
      xhr.addEventListener("load", function () {
        var filed = xhr.status === 201 ? filedAt(xhr.responseText) : null;
        ui.bar.value = 100;
        if (filed) {
          var link = document.createElement("a");
          link.href = filed.url;
          link.textContent = form.dataset.msgDone;
          ui.state.appendChild(link);
          if (filed.warning) {
            var warning = document.createElement("span");
            warning.className = "upload-warning";
            warning.textContent = " " + filed.warning;
            ui.state.appendChild(warning);
          }
        } else {
          ui.state.textContent = refusal(form, xhr.responseText);
        }
        ui.item.className = filed ? "upload-ok" : "upload-failed";
        resolve(filed);
      });
      xhr.addEventListener("error", function () {
        ui.state.textContent = form.dataset.msgFailed + " " + form.dataset.msgNetwork;
        ui.item.className = "upload-failed";
        resolve(null);
      });
      xhr.send(data);
    });
  }

  function enhanceUpload(form) {
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector("[data-upload-list]");
    var zone = form.querySelector("[data-dropzone]");
    var button = form.querySelector("button[type=submit]");
    if (!input || !list || !window.FormData) { return; }
    if (form.dataset.multiple === "1") { input.multiple = true; }

    if (zone) {
      zone.classList.add("dropzone-active");
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dragover");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragover"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        var files = event.dataTransfer && event.dataTransfer.files;
        if (!files || !files.length) { return; }
        if (!input.multiple && files.length > 1) {
          var one = new DataTransfer();
          one.items.add(files[0]);
          files = one.files;
        }
        input.files = files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }

    var chosen = form.querySelector("[data-chosen]");
    input.addEventListener("change", function () {
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      if (chosen) { chosen.textContent = names.length ? form.dataset.msgChosen + " " + names.join(", ") : ""; }
      button.disabled = false;
    });

    form.addEventListener("submit", function (event) {
      if (!input.files.length) { return; }  // the server explains what is missing
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var many = files.length > 1;
      list.textContent = "";
      list.hidden = false;
      list.scrollIntoView({ block: "nearest" });
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      var results = [];
      files.reduce(function (previous, file) {
        return previous.then(function () {
          return send(form, input, file, many, row(list, file.name)).then(function (filed) { results.push(filed); });
        });
      }, Promise.resolve()).then(function () {
        button.removeAttribute("aria-busy");
        // One file goes on to its page, unless there is a warning to read here first.
        if (!many && results[0] && !results[0].warning) {
          window.location.assign(results[0].url);
          return;
        }
        /* These files are done: the choice is cleared, and the button waits for new files
         * (sending the empty form again would only get "choose a file" back). */
        var done = form.querySelector("[data-upload-done]");
        if (done) { done.hidden = false; }
        input.value = "";
        if (chosen) { chosen.textContent = ""; }
        list.scrollIntoView({ block: "nearest" });
      });
    });
  }

  function pollStatus(element) {
    var delay = 1000;
    var started = Date.now();
    function tick() {
      fetch(element.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 503) { window.setTimeout(tick, 10000); return null; }  // busy
          return response.ok ? response.json() : null;
        })
        .then(function (state) {
          if (!state) { return; }
          if (state.done) { window.location.reload(); return; }
          element.textContent = state.label;
          delay = Math.min(delay * 1.5, 10000);
          if (Date.now() - started < 15 * 60 * 1000) { window.setTimeout(tick, delay); }
        })
        .catch(function () { window.setTimeout(tick, 10000); });
    }
    window.setTimeout(tick, delay);
  }

  function hintScrolling(box) {
    /* A table wider than its box (on a phone) scrolls sideways inside it: a line above it says
     * so while there is more to the right. */
    var hint = document.body.dataset.scrollHint;
    var note = null;
    function update() {
      var wide = box.scrollWidth > box.clientWidth + 4;
      var more = wide && box.scrollWidth - box.clientWidth - box.scrollLeft > 4;
      if (more && !note) {
        note = document.createElement("p");
        note.className = "scroll-hint";
        note.textContent = hint;
        box.parentNode.insertBefore(note, box);
      }
      if (note) { note.hidden = !more; }
    }
    if (!hint) { return; }
    update();
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    /* Printing needs script; without it the button stays hidden (the browser's menu prints). */
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  function showFirstError() {
    /* A form sent back with its messages: bring the first field that needs attention into
     * view and put the cursor in it, so the message is not left below the fold. */
    var field = document.querySelector("main [aria-invalid='true']");
    var message = document.querySelector("main .field-error");
    var target = field || (message && (message.closest(".field, fieldset") || message));
    if (!target) { return; }
    target.scrollIntoView({ block: "center" });
    if (field) { field.focus({ preventScroll: true }); }
  }

  document.querySelectorAll(".overflow-auto").forEach(hintScrolling);
  showFirstError();
  document.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
  document.querySelectorAll("[data-status-url]").forEach(pollStatus);
}());
