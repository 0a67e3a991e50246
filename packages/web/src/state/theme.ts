import { create } from "zustand";

export type ThemeChoice = "system" | "light" | "dark";
export type Theme = "light" | "dark";

/** Where the choice is kept. index.html's first-paint script reads the same key: keep the two in step. */
export const THEME_KEY = "kiln.theme";

const SYSTEM_LIGHT = "(prefers-color-scheme: light)";

/** The theme shown for a choice. "System" follows the OS; dark when it states no preference. */
export function resolveTheme(choice: ThemeChoice, systemLight: boolean): Theme {
  if (choice === "system") return systemLight ? "light" : "dark";
  return choice;
}

export function parseChoice(value: string | null | undefined): ThemeChoice {
  return value === "light" || value === "dark" ? value : "system";
}

function storedChoice(): ThemeChoice {
  try {
    return parseChoice(localStorage.getItem(THEME_KEY));
  } catch {
    return "system";
  }
}

function systemLight(): boolean {
  return typeof matchMedia === "function" && matchMedia(SYSTEM_LIGHT).matches;
}

/** The one place the theme reaches the page: a class on <html> that the light tokens hang on. */
function apply(theme: Theme): void {
  const root = document.documentElement;
  root.classList.toggle("light", theme === "light");
  root.classList.toggle("dark", theme === "dark");
}

interface ThemeState {
  choice: ThemeChoice;
  theme: Theme;
  choose(choice: ThemeChoice): void;
}

export const useTheme = create<ThemeState>()((set) => {
  const choice = storedChoice();
  return {
    choice,
    theme: resolveTheme(choice, systemLight()),
    choose(next) {
      try {
        if (next === "system") localStorage.removeItem(THEME_KEY);
        else localStorage.setItem(THEME_KEY, next);
      } catch {
        // storage may be disabled: the choice lasts for this page only
      }
      const theme = resolveTheme(next, systemLight());
      apply(theme);
      set({ choice: next, theme });
    },
  };
});

/**
 * Applies the stored choice (index.html did before the first paint; this confirms it) and, while the
 * choice is "System", follows the OS as it changes — and other tabs when they change the choice.
 */
export function followTheme(): void {
  apply(useTheme.getState().theme);
  const refresh = (choice: ThemeChoice) => {
    const theme = resolveTheme(choice, systemLight());
    apply(theme);
    useTheme.setState({ choice, theme });
  };
  if (typeof matchMedia === "function")
    matchMedia(SYSTEM_LIGHT).addEventListener("change", () => refresh(useTheme.getState().choice));
  window.addEventListener("storage", (e) => {
    if (e.key === THEME_KEY || e.key === null) refresh(storedChoice());
  });
}
