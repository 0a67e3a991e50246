import { PREVIEW_ERROR_LIMITS } from "@kiln/protocol";

/** Same-origin endpoint on the preview host; the gateway answers it, the project never sees it. */
export const ERRORS_PATH = "/__kiln/errors";

/**
 * Plain ES5 in an inline classic script, so it runs before the page's own (module) scripts and in any
 * browser: reports uncaught errors, unhandled rejections and `console.error` calls to ERRORS_PATH. Each
 * distinct error is sent once per page, at most 20 a minute, with its fields cut to the server's limits.
 * A page that loads and stays free of errors (no failed script or stylesheet, no error overlay) for a
 * second says so ({kind: "loaded"}): the app works again, so what was reported before is history.
 * It never throws and never calls console.error itself.
 *
 * It also keeps Web Storage usable: the preview is its own site inside the studio, and a browser that
 * blocks third-party storage throws on any touch of `localStorage` there. When it does, the page gets
 * the tab's sessionStorage, or failing that a storage kept in memory for as long as the page lives.
 */
const SOURCE = `(function () {
  if (window.__kilnErrors) return;
  window.__kilnErrors = true;
  function memoryStorage() {
    var data = {};
    var has = function (k) { return Object.prototype.hasOwnProperty.call(data, k); };
    var storage = {
      getItem: function (k) { k = String(k); return has(k) ? data[k] : null; },
      setItem: function (k, v) { data[String(k)] = String(v); },
      removeItem: function (k) { delete data[String(k)]; },
      clear: function () { data = {}; },
      key: function (i) { var keys = Object.keys(data); return i >= 0 && i < keys.length ? keys[i] : null; }
    };
    Object.defineProperty(storage, "length", { get: function () { return Object.keys(data).length; } });
    return storage;
  }
  function usable(name) {
    try { var s = window[name]; return s && typeof s.getItem === "function" ? s : null; } catch (e) { return null; }
  }
  try {
    var session = usable("sessionStorage");
    if (!session) {
      session = memoryStorage();
      Object.defineProperty(window, "sessionStorage", { value: session, configurable: true, enumerable: true });
    }
    if (!usable("localStorage")) {
      Object.defineProperty(window, "localStorage", { value: session, configurable: true, enumerable: true });
    }
  } catch (e) {}
  var seen = {}, sent = 0, windowStart = Date.now(), sending = false, errored = false;
  function text(value, max) {
    var s;
    try {
      s = typeof value === "string" ? value
        : value instanceof Error ? String(value)
        : value && typeof value.name === "string" && typeof value.message === "string" ? value.name + ": " + value.message
        : JSON.stringify(value);
    } catch (e) {}
    if (typeof s !== "string") { try { s = String(value); } catch (e) { s = "(unprintable)"; } }
    return s.slice(0, max);
  }
  function post(body) {
    if (sending) return;
    sending = true;
    try {
      fetch(${JSON.stringify(ERRORS_PATH)}, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
        keepalive: true
      })["catch"](function () {});
    } catch (e) {
    } finally {
      sending = false;
    }
  }
  function send(report) {
    errored = true;
    if (sending || !report.message) return;
    var now = Date.now();
    if (now - windowStart > 60000) { windowStart = now; sent = 0; }
    var key = report.kind + "|" + report.message + "|" + (report.url || "") + "|" + (report.line || 0);
    if (seen[key] || sent >= 20) return;
    seen[key] = true;
    sent++;
    report.page = String(location.pathname).slice(0, ${PREVIEW_ERROR_LIMITS.url});
    post(report);
  }
  function settle() {
    setTimeout(function () {
      try {
        if (errored || document.querySelector("vite-error-overlay")) return;
        post({ kind: "loaded", page: String(location.pathname).slice(0, ${PREVIEW_ERROR_LIMITS.url}) });
      } catch (e) {}
    }, 1000);
  }
  if (document.readyState === "complete") settle();
  else window.addEventListener("load", settle);
  // A script or stylesheet that failed to load (a dev server's build error answers 500) breaks the page.
  window.addEventListener("error", function (event) {
    if (!(event instanceof ErrorEvent)) errored = true;
  }, true);
  function stackOf(value) {
    return value && typeof value.stack === "string" ? value.stack.slice(0, ${PREVIEW_ERROR_LIMITS.stack}) : undefined;
  }
  window.addEventListener("error", function (event) {
    if (!(event instanceof ErrorEvent)) return;
    // An error thrown in a module script can come with the message "Uncaught " and nothing else.
    var message = event.message && !/^Uncaught\\s*$/.test(event.message) ? event.message : event.error;
    send({
      kind: "error",
      message: text(message || event.message, ${PREVIEW_ERROR_LIMITS.message}),
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
