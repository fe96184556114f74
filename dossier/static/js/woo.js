/* Drawing a redaction area on a page of a Woo document (templates/woo/item.html).
 * The page is an SVG whose coordinates are PDF points; dragging over it fills in the area
 * form's four number fields (which also work by hand, without this file) and moves the focus
 * to the ground, so the mark is confirmed with the same form. */
(function () {
  "use strict";

  function point(svg, event) {
    var p = svg.createSVGPoint();
    p.x = event.clientX;
    p.y = event.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }

  function fill(form, name, value) {
    var input = form.querySelector("[name=" + name + "]");
    if (input) { input.value = value.toFixed(1); }
  }

  function setUp(svg) {
    var form = document.getElementById(svg.dataset.form);
    if (!form) { return; }
    var start = null;
    var draft = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    draft.setAttribute("class", "woo-draft");
    svg.addEventListener("pointerdown", function (event) {
      start = point(svg, event);
      svg.setPointerCapture(event.pointerId);
      draft.setAttribute("width", "0");
      draft.setAttribute("height", "0");
      svg.appendChild(draft);
      event.preventDefault();
    });
    svg.addEventListener("pointermove", function (event) {
      if (!start) { return; }
      var now = point(svg, event);
      draft.setAttribute("x", Math.min(start.x, now.x));
      draft.setAttribute("y", Math.min(start.y, now.y));
      draft.setAttribute("width", Math.abs(now.x - start.x));
      draft.setAttribute("height", Math.abs(now.y - start.y));
    });
    svg.addEventListener("pointerup", function (event) {
      if (!start) { return; }
      var end = point(svg, event);
      fill(form, "x0", Math.min(start.x, end.x));
      fill(form, "y0", Math.min(start.y, end.y));
      fill(form, "x1", Math.max(start.x, end.x));
      fill(form, "y1", Math.max(start.y, end.y));
      start = null;
      var ground = form.querySelector("[name=ground]");
      if (ground) { ground.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg[data-draw]").forEach(setUp);
  });
})();
