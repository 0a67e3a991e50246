import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef } from "react";
import { type ConnectionState, TerminalConnection } from "./connection.ts";

/** xterm.js attached to the project's shell; fits its box and tells the server its size. */
export default function TerminalView({
  org,
  project,
  onState,
}: {
  org: string;
  project: string;
  onState: (state: ConnectionState, detail?: string) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const stateRef = useRef(onState);
  stateRef.current = onState;

  useEffect(() => {
    const el = box.current!;
    const term = new Terminal({
      fontFamily:
        "'JetBrains Mono', ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      fontSize: 12.5,
      lineHeight: 1.15,
      cursorBlink: true,
      scrollback: 5000,
      allowProposedApi: false,
      theme: {
        background: "#111215",
        foreground: "#d4d6dc",
        cursor: "#f08c3c",
        selectionBackground: "#3a3d46",
        black: "#1b1c20",
        brightBlack: "#5c6070",
      },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    const safeFit = () => {
      if (el.clientWidth > 0 && el.clientHeight > 0) fit.fit();
    };
    safeFit();

    const connection = new TerminalConnection(
      org,
      project,
      {
        write: (d) => term.write(d),
        reset: () => term.reset(),
        size: () => ({ cols: term.cols, rows: term.rows }),
      },
      (state, detail) => stateRef.current(state, detail),
    );
    const onData = term.onData((data) => {
      if (connection.exited) {
        if (data === "\r") connection.restart();
        return;
      }
      connection.input(data);
    });
    const onResize = term.onResize(({ cols, rows }) => connection.resize(cols, rows));
    const observer = new ResizeObserver(() => safeFit());
    observer.observe(el);
    void connection.start();
    term.focus();

    return () => {
      observer.disconnect();
      onData.dispose();
      onResize.dispose();
      connection.close();
      term.dispose();
    };
  }, [org, project]);

  return (
    <div ref={box} data-testid="terminal" className="h-full w-full overflow-hidden bg-[#111215] pl-2 pt-1" />
  );
}
