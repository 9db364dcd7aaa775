/* isotrack pages: small progressive enhancements. No inline scripts anywhere (CSP).
 *
 * Charts: <canvas data-chart='{"type": "line", "data": {...}, "options": {...}}'> is drawn
 * with Chart.js (load /static/vendor/chartjs/chart.umd.min.js in the page's scripts block).
 * A dataset with "isotrackThreshold": true is drawn as a dashed line without points.
 * Put the same numbers in a table next to the chart: the canvas is not read by screen readers.
 *
 * Error summary: a page with a refused form opens with [data-error-summary] at the top
 * (base.html). It gets the focus; its data-page-url, when given, becomes the address again
 * (a form posted to another URL leaves the address of the page it was on); each of its
 * links moves the focus to its field (opening the <details> around it).
 *
 * Confirmation: a form holding a closed <details class="confirm"> (the confirm_button macro)
 * is not submitted by pressing Enter in a field; the confirmation opens instead.
 */
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.chartDrawn === "yes") {
        return;
      }
      var config;
      try {
        config = JSON.parse(canvas.dataset.chart);
      } catch (error) {
        canvas.insertAdjacentText("afterend", "The chart could not be drawn.");
        return;
      }
      config.options = config.options || {};
      config.options.animation = false;
      config.options.responsive = true;
      config.options.maintainAspectRatio = false;
      ((config.data && config.data.datasets) || []).forEach(function (dataset) {
        if (dataset.isotrackThreshold) {
          dataset.borderDash = dataset.borderDash || [6, 4];
          dataset.pointRadius = 0;
          dataset.fill = false;
        }
      });
      new window.Chart(canvas, config);
      canvas.dataset.chartDrawn = "yes";
    });
  }

  function guardConfirmations(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    var pending = form.querySelector("details.confirm:not([open])");
    if (!pending) {
      return;
    }
    // Enter in a field "clicks" the form's first submit button, which may be the hidden
    // confirmation itself: a submission from a closed confirmation (or from no button)
    // opens it instead.
    var submitter = event.submitter;
    var holder = submitter ? submitter.closest("details.confirm") : pending;
    if (holder && !holder.open) {
      event.preventDefault();
      holder.open = true;
      var yes = holder.querySelector(".confirm__yes");
      if (yes) {
        yes.focus();
      }
    }
  }

  function fieldOf(link) {
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (target && target.matches("input, select, textarea, button")) {
      return target;
    }
    var scope = (target && target.closest("fieldset, .field, form")) || document;
    var selector = '[name="' + window.CSS.escape(link.dataset.field || "") + '"]:not([type=hidden]):not([disabled])';
    return scope.querySelector(selector) || document.querySelector(selector) || target;
  }

  function showErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    var address = summary.dataset.pageUrl;
    if (address && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", address);
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-field]");
      var field = link ? fieldOf(link) : null;
      if (!field) {
        return;
      }
      event.preventDefault();
      var details = field.closest("details");
      if (details) {
        details.open = true;
      }
      if (!field.matches("input, select, textarea, button") && !field.hasAttribute("tabindex")) {
        field.setAttribute("tabindex", "-1");
      }
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }

  document.addEventListener("submit", guardConfirmations, true);
  document.addEventListener("DOMContentLoaded", showErrorSummary);
  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    drawCharts(event.target);
  });
})();
