import { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import CssWorker from "monaco-editor/language/css/css.worker?worker";
import HtmlWorker from "monaco-editor/language/html/html.worker?worker";
import JsonWorker from "monaco-editor/language/json/json.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";

/**
 * Monaco from our own bundle: @monaco-editor/react would otherwise fetch it from a CDN. Workers are
 * bundled by Vite too, so the editor makes no request outside the Kiln server.
 */
self.MonacoEnvironment = {
  getWorker(_id: string, label: string) {
    if (label === "typescript" || label === "javascript") return new TsWorker();
    if (label === "json") return new JsonWorker();
    if (label === "css" || label === "scss" || label === "less") return new CssWorker();
    if (label === "html" || label === "handlebars" || label === "razor") return new HtmlWorker();
    return new EditorWorker();
  },
};

loader.config({ monaco });

// The project's node_modules are not visible to the browser, so type errors about imports would be noise;
// syntax errors are still shown.
for (const defaults of [monaco.typescript.typescriptDefaults, monaco.typescript.javascriptDefaults]) {
  defaults.setDiagnosticsOptions({ noSemanticValidation: true, noSyntaxValidation: false });
  defaults.setCompilerOptions({
    target: monaco.typescript.ScriptTarget.ES2020,
    module: monaco.typescript.ModuleKind.ESNext,
    moduleResolution: monaco.typescript.ModuleResolutionKind.NodeJs,
    jsx: monaco.typescript.JsxEmit.ReactJSX,
    allowJs: true,
    allowNonTsExtensions: true,
    esModuleInterop: true,
  });
}

monaco.editor.defineTheme("kiln-dark", {
  base: "vs-dark",
  inherit: true,
  rules: [],
  colors: {
    "editor.background": "#17181c",
    "editor.lineHighlightBackground": "#1f2026",
    "editorGutter.background": "#17181c",
    "editorLineNumber.foreground": "#4b4f5a",
    "editorLineNumber.activeForeground": "#a0a4ad",
    "editorWidget.background": "#1f2026",
    "editorWidget.border": "#2e3038",
    "scrollbarSlider.background": "#3a3d4680",
  },
});

monaco.editor.defineTheme("kiln-light", {
  base: "vs",
  inherit: true,
  rules: [],
  colors: {
    "editor.background": "#ffffff",
    "editor.lineHighlightBackground": "#f4f5f7",
    "editorGutter.background": "#ffffff",
    "editorLineNumber.foreground": "#b4b8c0",
    "editorLineNumber.activeForeground": "#4b4f5a",
    "editorWidget.background": "#f7f8fa",
    "editorWidget.border": "#d9dce1",
    "scrollbarSlider.background": "#c4c8d080",
  },
});

export { monaco };
