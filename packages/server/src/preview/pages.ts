/** Pages the preview origin shows when there is nothing to proxy yet. Never a blank frame. */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds
    ? `<script>setTimeout(function(){location.reload()},${refreshSeconds * 1000})</script>`
    : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>
body{font-family:system-ui,sans-serif;background:#0b0b0f;color:#e7e7ea;display:grid;place-items:center;min-height:100vh;margin:0}
main{max-width:46rem;padding:2rem}h1{font-size:1.1rem;font-weight:600}p{color:#a1a1aa}
pre{background:#17171c;padding:1rem;border-radius:.5rem;overflow:auto;max-height:50vh;font-size:.8rem;white-space:pre-wrap}
.dot{display:inline-block;width:.6rem;height:.6rem;border-radius:50%;background:#f59e0b;margin-right:.5rem;animation:p 1s infinite alternate}
@keyframes p{to{opacity:.3}}</style>${refresh}</head><body><main>${body}</main></body></html>`;
}

export function startingPage(projectName: string, phase: string, logTail: string[]): string {
  const log = logTail.length ? `<pre>${escapeHtml(logTail.join("\n"))}</pre>` : "";
  return page(
    `Starting ${projectName}…`,
    `<h1><span class="dot"></span>Starting ${escapeHtml(projectName)}…</h1><p>${escapeHtml(phase)}. This page reloads by itself.</p>${log}`,
    1,
  );
}

export function crashedPage(projectName: string, reason: string, logTail: string[]): string {
  return page(
    `${projectName} stopped`,
    `<h1>${escapeHtml(projectName)} is not running</h1><p>${escapeHtml(reason)}</p><pre>${escapeHtml(logTail.join("\n") || "(no output)")}</pre>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
