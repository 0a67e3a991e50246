import Editor, { type OnMount } from "@monaco-editor/react";
import { useEffect, useRef } from "react";
import { useTheme } from "../../state/theme.ts";
import { monaco } from "./monaco-setup.ts";

type IEditor = Parameters<OnMount>[0];

export interface CodeEditorProps {
  /** Identifies the buffer (one Monaco model per path keeps undo history and scroll per tab). */
  modelPath: string;
  value: string;
  language: string;
  readOnly?: boolean;
  onChange(value: string): void;
}

/** Monaco with the Kiln theme. The parent owns the text; this keeps the model in step with it. */
export default function CodeEditor({ modelPath, value, language, readOnly, onChange }: CodeEditorProps) {
  const editorRef = useRef<IEditor | null>(null);
  const theme = useTheme((s) => s.theme);

  // Text that changed outside the editor (a reload, "use theirs") replaces the model's content as one
  // undoable edit; typing never lands here because the parent's value already equals the model's.
  // biome-ignore lint/correctness/useExhaustiveDependencies: a tab switch swaps the model, which must be checked too
  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (!model || model.getValue() === value) return;
    editorRef.current!.pushUndoStop();
    editorRef.current!.executeEdits("kiln-sync", [{ range: model.getFullModelRange(), text: value }]);
    editorRef.current!.pushUndoStop();
  }, [value, modelPath]);

  return (
    <Editor
      path={modelPath}
      defaultValue={value}
      language={language}
      theme={theme === "light" ? "kiln-light" : "kiln-dark"}
      keepCurrentModel
      onMount={(editor) => {
        editorRef.current = editor;
        const model = editor.getModel();
        if (model && model.getValue() !== value) model.setValue(value);
        editor.focus();
      }}
      onChange={(v) => onChange(v ?? "")}
      loading={null}
      options={{
        readOnly: readOnly ?? false,
        fontSize: 13,
        fontFamily:
          "'JetBrains Mono', ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace",
        minimap: { enabled: false },
        // Panes are narrow and Tailwind class lists long: wrapping beats scrolling sideways.
        wordWrap: "on",
        scrollBeyondLastLine: false,
        smoothScrolling: true,
        tabSize: 2,
        automaticLayout: true,
        renderLineHighlight: "line",
        padding: { top: 8 },
        fixedOverflowWidgets: true,
      }}
    />
  );
}

/** Drops the Monaco models whose path (`/<org>/<project>/<file>`) matches: closed tabs, or a project left. */
export function disposeModels(match: (path: string) => boolean): void {
  for (const model of monaco.editor.getModels()) if (match(model.uri.path)) model.dispose();
}
