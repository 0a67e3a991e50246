import {
  ELEMENT_PICKER_CHANNEL,
  type PickerStudioMessage,
  type RuntimeStatus,
  readPickerMessage,
} from "@kiln/protocol";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { pickElement, setPicking, useElementSelection } from "../../state/element-selection.ts";
import { usePreviewReload } from "../../state/preview-reload.ts";
import { useProject } from "../../state/project-context.tsx";
import { type Device, useWorkspaceUi } from "../../state/ui-store.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { ExternalIcon, MonitorIcon, PhoneIcon, PickIcon, RefreshIcon, TabletIcon } from "../../ui/icons.tsx";
import { Spinner } from "../../ui/spinner.tsx";
import { useRuntime, useRuntimeAction } from "../runtime/use-runtime.ts";
import { useOpenPreviewSession } from "./mutations.ts";
import { openPendingTab } from "./new-tab.ts";
import { PreviewErrors } from "./preview-errors.tsx";

const WIDTHS: Record<Device, number | undefined> = { mobile: 390, tablet: 768, desktop: undefined };

/** After a new page's `load`, how long its scripts get to draw before it replaces the old one. */
const PAINT_MS = 150;
/** A new page that never fires `load` replaces the old one anyway after this long. */
const SWAP_TIMEOUT_MS = 15_000;

interface Frame {
  key: number;
  src: string;
}

/**
 * The running app, in an iframe on the project's own preview origin. The first load goes through a
 * one-minute hand-off link that gives the iframe its preview cookie; later loads use the origin directly.
 * Until the dev server runs, an overlay says what it is doing (or why it crashed) with its last log lines.
 */
export function PreviewPane() {
  const { org, project } = useProject();
  const runtime = useRuntime(org, project);
  const act = useRuntimeAction(org, project);
  const session = useOpenPreviewSession(org, project);
  const device = useWorkspaceUi((s) => s.device);
  const setUi = useWorkspaceUi((s) => s.set);
  // Double-buffered: a reload loads the page in a hidden frame and shows it once it has loaded, so the old
  // page stays on screen meanwhile instead of a white one. `shown` is on screen, `loading` on its way.
  const [frames, setFrames] = useState<{ shown?: Frame; loading?: Frame }>({});
  const [path, setPath] = useState("/");
  const [address, setAddress] = useState("/");
  const loadCount = useRef(0);
  const setSrc = useCallback((src: string) => {
    const frame = { key: ++loadCount.current, src };
    setFrames((f) => (f.shown ? { shown: f.shown, loading: frame } : { shown: frame }));
    return frame.key;
  }, []);
  const loaded = useCallback((key: number) => {
    setFrames((f) => (f.loading?.key === key ? { shown: f.loading } : f));
  }, []);
  const loadingKey = frames.loading?.key;
  useEffect(() => {
    if (loadingKey === undefined) return;
    const timer = setTimeout(() => loaded(loadingKey), SWAP_TIMEOUT_MS);
    return () => clearTimeout(timer);
  }, [loadingKey, loaded]);
  const [signInError, setSignInError] = useState<string>();
  // Signed in once the hand-off frame has loaded: only then does the iframe hold its preview cookie. A page
  // asked for before that (a turn ending while the hand-off is still on its way) would be "private" for
  // good, so it waits for the hand-off and runs after it.
  const signedIn = useRef(false);
  const handoffKey = useRef<number>(undefined);
  const afterSignIn = useRef<(() => void) | undefined>(undefined);
  const origin = runtime.data?.previewUrl;

  // One hand-off per mount: it sets the preview cookie inside the iframe's (partitioned) storage.
  useEffect(() => {
    let cancelled = false;
    signedIn.current = false;
    handoffKey.current = undefined;
    afterSignIn.current = undefined;
    api.runtime
      .previewSession(org, project)
      .then((s) => {
        if (!cancelled) handoffKey.current = setSrc(s.url);
      })
      .catch((err) => !cancelled && setSignInError(describeError(err)));
    return () => {
      cancelled = true;
    };
  }, [org, project, setSrc]);

  // A new frame (a new key) loads the page even when the address is the same.
  const navigate = useCallback(
    (to: string) => {
      if (!origin) return;
      const next = to.startsWith("/") ? to : `/${to}`;
      setPath(next);
      setAddress(next);
      if (signedIn.current) setSrc(`${origin}${next}`);
      else afterSignIn.current = () => setSrc(`${origin}${next}`);
    },
    [origin, setSrc],
  );
  const frameLoaded = useCallback(
    (key: number, shown: boolean) => {
      if (key === handoffKey.current && !signedIn.current) {
        signedIn.current = true;
        const next = afterSignIn.current;
        afterSignIn.current = undefined;
        next?.();
      }
      if (!shown) setTimeout(() => loaded(key), PAINT_MS);
    },
    [loaded],
  );

  const reload = useCallback(() => navigate(path), [navigate, path]);

  // Asked for from elsewhere: after an agent turn or a restore that broke the page on its way.
  const reloadTick = usePreviewReload((s) => s.tick);
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    if (reloadTick > 0) reloadRef.current();
  }, [reloadTick]);

  // The gateway's "starting" page reloads itself until the app is up; its "crashed" page does not, so
  // coming back from a crash reloads the frame here.
  const state = runtime.data?.state;
  const previous = useRef(state);
  useEffect(() => {
    if (previous.current === "crashed" && state === "running") reload();
    previous.current = state;
  }, [state, reload]);

  const openInNewTab = () => {
    // Opened before the request so the browser counts it as the user's click, not a pop-up.
    const tab = openPendingTab();
    session.mutateAsync().then(
      (s) => {
        const url = new URL(s.url);
        url.searchParams.set("next", path);
        tab.go(url.toString());
      },
      () => tab.close(),
    );
  };

  // Element picker: the page's half (injected by the preview gateway) highlights and reports; this half
  // tells it to start or stop and takes only picker messages from the shown frame on the preview origin.
  const picking = useElementSelection((s) => s.picking);
  const iframes = useRef(new Map<number, HTMLIFrameElement>());
  const previewOrigin = origin ? new URL(origin).origin : undefined;
  const shownKey = frames.shown?.key;
  const tellPage = useCallback(
    (type: PickerStudioMessage["type"], key = shownKey) => {
      const win = key === undefined ? undefined : iframes.current.get(key)?.contentWindow;
      if (!win || !previewOrigin) return;
      const message: PickerStudioMessage = { kiln: ELEMENT_PICKER_CHANNEL, type };
      win.postMessage(message, previewOrigin);
    },
    [previewOrigin, shownKey],
  );
  useEffect(() => {
    tellPage(picking ? "start" : "stop");
  }, [picking, tellPage]);
  useEffect(() => () => setPicking(false), []);
  useEffect(() => {
    if (!previewOrigin || shownKey === undefined) return;
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== previewOrigin) return;
      if (event.source === null || event.source !== iframes.current.get(shownKey)?.contentWindow) return;
      const message = readPickerMessage(event.data);
      if (message?.type === "selected") pickElement(`${org}/${project}`, message.selection);
      else if (message?.type === "cancelled") setPicking(false);
    };
    window.addEventListener("message", onMessage);
    return () => window.removeEventListener("message", onMessage);
  }, [previewOrigin, shownKey, org, project]);

  const width = WIDTHS[device];

  return (
    <section aria-label="Preview" className="flex h-full min-w-0 flex-col bg-surface-1">
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-line px-1.5">
        <IconButton label="Reload preview" onClick={reload} disabled={!origin}>
          <RefreshIcon className="size-3.5" />
        </IconButton>
        <form
          className="flex min-w-0 flex-1"
          onSubmit={(e) => {
            e.preventDefault();
            navigate(address.trim() || "/");
          }}
        >
          <label
            title={origin ? `${origin}${path}` : undefined}
            data-focus-ring="within"
            className="flex h-6 min-w-0 flex-1 items-center gap-1.5 rounded border border-line bg-surface-0 px-2 font-mono text-[11px] focus-within:border-accent-500"
          >
            <span className="size-1.5 shrink-0 rounded-full bg-emerald-400/70" aria-hidden="true" />
            <input
              aria-label="Preview address"
              value={address}
              onChange={(e) => setAddress(e.target.value)}
              spellCheck={false}
              className="min-w-0 flex-1 bg-transparent text-neutral-200 outline-none"
            />
          </label>
        </form>
        <div role="radiogroup" aria-label="Device width" className="flex items-center">
          {(
            [
              ["mobile", PhoneIcon, "Mobile (390px)"],
              ["tablet", TabletIcon, "Tablet (768px)"],
              ["desktop", MonitorIcon, "Desktop (full width)"],
            ] as const
          ).map(([d, Icon, label]) => (
            <IconButton
              key={d}
              label={label}
              role="radio"
              aria-checked={device === d}
              active={device === d}
              onClick={() => setUi({ device: d })}
            >
              <Icon className="size-3.5" />
            </IconButton>
          ))}
        </div>
        <IconButton
          label={picking ? "Stop selecting (Esc in the preview)" : "Select element"}
          aria-pressed={picking}
          active={picking}
          disabled={!origin || state !== "running"}
          onClick={() => setPicking(!picking)}
          className={cn(picking && "text-accent-300")}
        >
          <PickIcon className="size-3.5" />
        </IconButton>
        <IconButton label="Open preview in a new tab" onClick={openInNewTab}>
          <ExternalIcon className="size-3.5" />
        </IconButton>
      </div>
      <div
        className={cn("relative min-h-0 flex-1 overflow-auto", width ? "bg-surface-0" : "bg-white")}
        // A reload under way: the page on screen is about to be replaced.
        aria-busy={frames.loading !== undefined || undefined}
      >
        {[frames.shown, frames.loading].map(
          (frame) =>
            frame && (
              <div
                key={frame.key}
                className={cn(
                  "absolute inset-0",
                  width !== undefined && "p-3",
                  frame !== frames.shown && "invisible",
                )}
                aria-hidden={frame !== frames.shown || undefined}
              >
                <iframe
                  ref={(el) => {
                    if (el) iframes.current.set(frame.key, el);
                    else iframes.current.delete(frame.key);
                  }}
                  title={frame === frames.shown ? "App preview" : "App preview (loading)"}
                  src={frame.src}
                  onLoad={() => {
                    frameLoaded(frame.key, frame === frames.shown);
                    // A page loaded while picking (a reload, a navigation) picks too.
                    if (useElementSelection.getState().picking) tellPage("start", frame.key);
                  }}
                  // The app runs on its own origin: scripts and forms yes, but it cannot reach the studio.
                  sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-modals allow-downloads"
                  className={cn(
                    "block h-full border-0 bg-white",
                    width ? "mx-auto rounded-md shadow-lg ring-1 ring-line" : "w-full",
                  )}
                  style={width ? { width } : undefined}
                  tabIndex={frame === frames.shown ? undefined : -1}
                />
              </div>
            ),
        )}
        <Overlay
          status={runtime.data}
          error={signInError ?? (runtime.isError ? describeError(runtime.error) : undefined)}
          onRestart={() => act.mutate("restart")}
          onStart={() => act.mutate("start")}
        />
        <PreviewErrors />
      </div>
    </section>
  );
}

function Overlay({
  status,
  error,
  onRestart,
  onStart,
}: {
  status: RuntimeStatus | undefined;
  error: string | undefined;
  onRestart: () => void;
  onStart: () => void;
}) {
  if (error) {
    return (
      <Cover>
        <p className="text-sm font-medium text-red-300">The preview is unavailable</p>
        <p className="text-xs text-neutral-400">{error}</p>
      </Cover>
    );
  }
  if (!status) {
    return (
      <Cover>
        <Spinner label="Connecting to the preview" />
      </Cover>
    );
  }
  if (status.state === "running") return null;
  if (status.state === "crashed") {
    return (
      <Cover>
        <p className="text-sm font-medium text-red-300">
          The dev server crashed{status.exitCode !== null ? ` (exit code ${status.exitCode})` : ""}
        </p>
        <p className="max-w-md text-xs text-neutral-400">{status.detail}</p>
        <LogTail lines={status.logTail} />
        <Button variant="primary" size="sm" onClick={onRestart}>
          Restart dev server
        </Button>
        <p className="text-[11px] text-neutral-500">It also restarts by itself when a file changes.</p>
      </Cover>
    );
  }
  if (status.state === "starting") {
    return (
      <Cover>
        <div className="flex items-center gap-2">
          <Spinner label="Starting" />
          <p className="text-sm font-medium text-neutral-200">Starting the dev server…</p>
        </div>
        <p className="text-xs text-neutral-400">{status.detail}</p>
        <LogTail lines={status.logTail} />
      </Cover>
    );
  }
  // stopped or hibernated: loading the preview wakes it, but say so while it does.
  return (
    <Cover>
      <p className="text-sm font-medium text-neutral-200">
        {status.state === "hibernated" ? "The dev server is asleep" : "The dev server is stopped"}
      </p>
      <p className="text-xs text-neutral-400">{status.detail || "Opening the preview starts it."}</p>
      <Button variant="primary" size="sm" onClick={onStart}>
        Start dev server
      </Button>
    </Cover>
  );
}

function Cover({ children }: { children: React.ReactNode }) {
  return (
    <div
      data-testid="preview-overlay"
      className="absolute inset-0 flex flex-col items-center justify-center gap-3 bg-surface-0/95 p-6 text-center"
    >
      {children}
    </div>
  );
}

function LogTail({ lines }: { lines: string[] }) {
  if (lines.length === 0) return null;
  return (
    <pre className="max-h-48 w-full max-w-xl overflow-auto rounded border border-line bg-inset p-2 text-left font-mono text-[11px] leading-snug text-neutral-400">
      {lines.slice(-12).join("\n")}
    </pre>
  );
}
