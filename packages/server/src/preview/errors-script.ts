import { PREVIEW_ERROR_LIMITS } from "@kiln/protocol";

/** Same-origin endpoint on the preview host; the gateway answers it, the project never sees it. */
export const ERRORS_PATH = "/__kiln/errors";

/**
 * Plain ES5 in an inline classic script, so it runs before the page's own (module) scripts and in any
 * browser: reports uncaught errors, unhandled rejections and `console.error` calls to ERRORS_PATH. Each
 * distinct error is sent once per page, at most 20 a minute, with its fields cut to the server's limits.
 * It never throws and never calls console.error itself.
 */
const SOURCE = `(function () {
  if (window.__kilnErrors) return;
  window.__kilnErrors = true;
  var seen = {}, sent = 0, windowStart = Date.now(), sending = false;
  function text(value, max) {
    var s;
    try {
      s = typeof value === "string" ? value : value instanceof Error ? String(value) : JSON.stringify(value);
    } catch (e) {}
    if (typeof s !== "string") { try { s = String(value); } catch (e) { s = "(unprintable)"; } }
    return s.slice(0, max);
  }
  function send(report) {
    if (sending || !report.message) return;
    var now = Date.now();
    if (now - windowStart > 60000) { windowStart = now; sent = 0; }
    var key = report.kind + "|" + report.message + "|" + (report.url || "") + "|" + (report.line || 0);
    if (seen[key] || sent >= 20) return;
    seen[key] = true;
    sent++;
    report.page = String(location.pathname).slice(0, ${PREVIEW_ERROR_LIMITS.url});
    sending = true;
    try {
      fetch(${JSON.stringify(ERRORS_PATH)}, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(report),
        credentials: "same-origin",
        keepalive: true
      })["catch"](function () {});
    } catch (e) {
    } finally {
      sending = false;
    }
  }
  function stackOf(value) {
    return value && typeof value.stack === "string" ? value.stack.slice(0, ${PREVIEW_ERROR_LIMITS.stack}) : undefined;
  }
  window.addEventListener("error", function (event) {
    if (!(event instanceof ErrorEvent)) return;
    send({
      kind: "error",
      message: text(event.message || event.error, ${PREVIEW_ERROR_LIMITS.message}),
      stack: stackOf(event.error),
      url: event.filename ? text(event.filename, ${PREVIEW_ERROR_LIMITS.url}) : undefined,
      line: event.lineno > 0 ? event.lineno : undefined,
      col: event.colno > 0 ? event.colno : undefined
    });
  });
  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    send({
      kind: "unhandledrejection",
      message: text(reason && reason.message ? reason.message : reason, ${PREVIEW_ERROR_LIMITS.message}),
      stack: stackOf(reason)
    });
  });
  var original = console.error;
  console.error = function () {
    try {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(text(arguments[i], ${PREVIEW_ERROR_LIMITS.message}));
      var first = null;
      for (var j = 0; j < arguments.length; j++) if (arguments[j] instanceof Error) { first = arguments[j]; break; }
      send({ kind: "console", message: parts.join(" ").slice(0, ${PREVIEW_ERROR_LIMITS.message}), stack: stackOf(first) });
    } catch (e) {}
    return original.apply(this, arguments);
  };
})();`;

export const ERROR_REPORTER_TAG = `<script data-kiln="errors">${SOURCE.replace(/\n\s*/g, "\n")}</script>`;
