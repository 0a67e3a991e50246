import { ELEMENT_PICKER_CHANNEL, ELEMENT_SELECTION_LIMITS } from "@kiln/protocol";

/**
 * The element picker's half in the preview page (ES5, inline, injected with the error reporter into
 * members' page loads). It listens only to its own parent frame and only to the studio's origin: "start"
 * highlights the element under the pointer, a click posts that element (tag, selector, text, box and its
 * `data-kiln-source`) to the studio — addressed to the studio's origin only — and stops; Escape cancels.
 * While picking, the page's own click handlers do not run. The studio validates what arrives anyway.
 */
function source(studioOrigin: string): string {
  const L = ELEMENT_SELECTION_LIMITS;
  return `(function () {
  if (window.__kilnPicker || window.parent === window) return;
  window.__kilnPicker = true;
  var STUDIO = ${JSON.stringify(studioOrigin)}, CHANNEL = ${JSON.stringify(ELEMENT_PICKER_CHANNEL)};
  var active = false, box = null, current = null;
  function post(message) {
    message.kiln = CHANNEL;
    try { window.parent.postMessage(message, STUDIO); } catch (e) {}
  }
  function show(el) {
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("data-kiln", "picker-highlight");
      box.style.cssText = "position:fixed;z-index:2147483647;pointer-events:none;box-sizing:border-box;" +
        "border:2px solid #6366f1;background:rgba(99,102,241,.14);border-radius:3px;transition:all 60ms linear";
    }
    if (!box.parentNode) document.documentElement.appendChild(box);
    var r = el.getBoundingClientRect();
    box.style.left = r.left + "px"; box.style.top = r.top + "px";
    box.style.width = r.width + "px"; box.style.height = r.height + "px";
  }
  function cut(s, max) { return String(s).slice(0, max); }
  function selectorOf(el) {
    var parts = [];
    for (var node = el; node && node.nodeType === 1 && parts.length < 6; node = node.parentElement) {
      var tag = node.tagName.toLowerCase();
      if (node.id && /^[A-Za-z][\\w-]{0,60}$/.test(node.id)) { parts.unshift("#" + node.id); break; }
      if (tag === "html" || tag === "body") { parts.unshift(tag); break; }
      var same = 0, index = 0;
      for (var s = node.parentElement ? node.parentElement.firstElementChild : null; s; s = s.nextElementSibling) {
        if (s.tagName === node.tagName) { same++; if (s === node) index = same; }
      }
      parts.unshift(same > 1 ? tag + ":nth-of-type(" + index + ")" : tag);
    }
    return cut(parts.join(" > "), ${L.selector});
  }
  function sourceOf(el) {
    var holder = el.closest ? el.closest("[data-kiln-source]") : null;
    var value = holder ? holder.getAttribute("data-kiln-source") : null;
    return value && value.length <= ${L.source} ? value : undefined;
  }
  function describe(el) {
    var r = el.getBoundingClientRect();
    var tag = el.tagName.toLowerCase();
    return {
      tag: /^[a-z][a-z0-9-]{0,39}$/.test(tag) ? tag : "element",
      selector: selectorOf(el),
      text: cut(String(el.innerText || el.textContent || "").replace(/\\s+/g, " ").replace(/^ | $/g, ""), ${L.text}),
      box: { x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height) },
      source: sourceOf(el),
      page: cut(location.pathname, 500)
    };
  }
  function target(event) {
    var el = event.target;
    return el && el.nodeType === 1 && el !== box ? el : null;
  }
  function over(event) {
    var el = target(event);
    if (el && el !== current) { current = el; show(el); }
  }
  function swallow(event) {
    event.preventDefault(); event.stopPropagation();
    if (event.stopImmediatePropagation) event.stopImmediatePropagation();
  }
  function click(event) {
    swallow(event);
    var el = target(event) || current;
    if (!el) return;
    var selection;
    try { selection = describe(el); } catch (e) { return; }
    stop();
    post({ type: "selected", selection: selection });
  }
  function key(event) {
    if (event.key === "Escape") { swallow(event); stop(); post({ type: "cancelled" }); }
  }
  var BLOCKED = ["pointerdown", "pointerup", "mousedown", "mouseup", "dblclick", "contextmenu", "submit"];
  function start() {
    if (active) return;
    active = true;
    document.addEventListener("pointerover", over, true);
    document.addEventListener("pointermove", over, true);
    document.addEventListener("click", click, true);
    document.addEventListener("keydown", key, true);
    for (var i = 0; i < BLOCKED.length; i++) document.addEventListener(BLOCKED[i], swallow, true);
    document.documentElement.style.cursor = "crosshair";
  }
  function stop() {
    if (!active) return;
    active = false; current = null;
    document.removeEventListener("pointerover", over, true);
    document.removeEventListener("pointermove", over, true);
    document.removeEventListener("click", click, true);
    document.removeEventListener("keydown", key, true);
    for (var i = 0; i < BLOCKED.length; i++) document.removeEventListener(BLOCKED[i], swallow, true);
    document.documentElement.style.cursor = "";
    if (box && box.parentNode) box.parentNode.removeChild(box);
  }
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== STUDIO) return;
    var data = event.data;
    if (!data || data.kiln !== CHANNEL) return;
    if (data.type === "start") start();
    else if (data.type === "stop") stop();
  });
})();`;
}

/** The picker's script tag for pages shown inside the studio at `studioOrigin` (`https://kiln.example`). */
export function elementPickerTag(studioOrigin: string): string {
  return `<script data-kiln="picker">${source(studioOrigin).replace(/\n\s*/g, "\n")}</script>`;
}
