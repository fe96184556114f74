/* Dossier's progressive enhancements. Every page works without this file:
 * - upload forms: drag and drop, several files at once, a progress bar per file (one file:
 *   on to its page when filed; several: each row links to its document);
 * - the document page: polls the extraction status and reloads when the text is ready.
 * Texts come from data-* attributes that the (translated) templates fill in. */
(function () {
  "use strict";

  function errorsIn(html) {
    /* The messages of a refused upload, read from the form page the server sent back. */
    var doc = new DOMParser().parseFromString(html, "text/html");
    var found = doc.querySelectorAll(".flash-error, .field-error, main h1 + p");
    var messages = [];
    found.forEach(function (el) { messages.push(el.textContent.trim()); });
    return messages.filter(Boolean).join(" ");
  }

  function filedAt(text) {
    /* The address of the filed document, from the server's JSON answer. */
    try {
      return JSON.parse(text).url || null;
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
          link.href = filed;
          link.textContent = form.dataset.msgDone;
          ui.state.appendChild(link);
        } else {
          ui.state.textContent = form.dataset.msgFailed + " " + errorsIn(xhr.responseText);
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

    input.addEventListener("change", function () {
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      var chosen = form.querySelector("[data-chosen]");
      if (chosen) { chosen.textContent = names.length ? form.dataset.msgChosen + " " + names.join(", ") : ""; }
    });

    form.addEventListener("submit", function (event) {
      if (!input.files.length) { return; }  // the server explains what is missing
      event.preventDefault();
      var files = Array.prototype.slice.call(input.files);
      var many = files.length > 1;
      list.textContent = "";
      list.hidden = false;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      var results = [];
      files.reduce(function (previous, file) {
        return previous.then(function () {
          return send(form, input, file, many, row(list, file.name)).then(function (url) { results.push(url); });
        });
      }, Promise.resolve()).then(function () {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        if (!many && results[0]) {
          window.location.assign(results[0]);
          return;
        }
        var done = form.querySelector("[data-upload-done]");
        if (done) { done.hidden = false; }
        input.value = "";
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

  document.querySelectorAll("form[data-upload]").forEach(enhanceUpload);
  document.querySelectorAll("[data-status-url]").forEach(pollStatus);
}());
