/* isotrack pages: small progressive enhancements. No inline scripts anywhere (CSP).
 *
 * Charts: <canvas data-chart='{"type": "line", "data": {...}, "options": {...}}'> is drawn
 * with Chart.js (load /static/vendor/chartjs/chart.umd.min.js in the page's scripts block).
 * A dataset with "isotrackThreshold": true is drawn as a dashed line without points.
 * Put the same numbers in a table next to the chart: the canvas is not read by screen readers.
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

  document.addEventListener("submit", guardConfirmations, true);
  document.addEventListener("DOMContentLoaded", function () {
    drawCharts(document);
  });
  document.addEventListener("htmx:load", function (event) {
    drawCharts(event.target);
  });
})();
