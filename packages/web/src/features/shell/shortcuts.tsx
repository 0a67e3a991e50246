import { useEffect } from "react";
import { create } from "zustand";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";

const useShortcuts = create<{ open: boolean }>(() => ({ open: false }));

/** Shows the list of keyboard shortcuts (the `?` key does it too). */
export const openShortcuts = () => useShortcuts.setState({ open: true });

const mod = () => (/Mac|iPhone|iPad/.test(navigator.platform) ? "⌘" : "Ctrl");

/** Every shortcut the studio has, by where it works. Keep in step with the key handlers it names. */
function groups(): Array<{ title: string; keys: Array<[keys: string[], what: string]> }> {
  const m = mod();
  return [
    {
      title: "Anywhere",
      keys: [
        [["?"], "Show this list"],
        [["Tab"], "Next control; Shift+Tab goes back"],
        [["Esc"], "Close a dialog or menu"],
      ],
    },
    {
      title: "Workspace",
      keys: [
        [[m, "S"], "Save the file"],
        [[m, "P"], "Open a file by name"],
        [["Ctrl", "`"], "Show or hide the terminal"],
      ],
    },
    {
      title: "Chat",
      keys: [
        [["Enter"], "Send the message"],
        [["Shift", "Enter"], "New line"],
        [["Esc"], "Stop the agent"],
      ],
    },
    {
      title: "Files",
      keys: [
        [["↑", "↓"], "Move through the files"],
        [["→", "←"], "Open or close a folder"],
        [["Enter"], "Open the file"],
        [["F2"], "Rename"],
        [["Delete"], "Delete"],
      ],
    },
    {
      title: "Menus and the board",
      keys: [
        [["↑", "↓"], "Move through a menu; Enter picks"],
        [["Esc"], "Close the task drawer"],
      ],
    },
  ];
}

/** Where typing goes to the text: `?` there is a question mark, not a shortcut. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    // The code editor and the terminal take keys in elements of their own.
    target.closest(".monaco-editor, .xterm") !== null ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement ||
    (target instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(target.type))
  );
}

/** Mounted once at the root: opens the shortcut list on `?` and shows it. */
export function ShortcutsHost() {
  const open = useShortcuts((s) => s.open);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      if (isTyping(e.target) || document.querySelector("dialog[open]")) return;
      e.preventDefault();
      openShortcuts();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const close = () => useShortcuts.setState({ open: false });
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Keyboard shortcuts"
      className="w-[min(44rem,calc(100vw-2rem))]"
      footer={<Button onClick={close}>Close</Button>}
    >
      <div className="grid gap-5 sm:grid-cols-2">
        {groups().map((g) => (
          <section key={g.title} aria-label={g.title}>
            <h3 className="mb-2 text-[11px] font-medium tracking-wide text-neutral-500 uppercase">
              {g.title}
            </h3>
            <dl className="flex flex-col gap-1.5">
              {g.keys.map(([keys, what]) => (
                <div key={what} className="flex items-center justify-between gap-3 text-[13px]">
                  <dt className="text-neutral-300">{what}</dt>
                  <dd className="flex shrink-0 gap-1">
                    {keys.map((k) => (
                      <kbd
                        key={k}
                        className="min-w-5 rounded border border-line bg-surface-2 px-1.5 py-px text-center font-mono text-[11px] text-neutral-200"
                      >
                        {k}
                      </kbd>
                    ))}
                  </dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Dialog>
  );
}
