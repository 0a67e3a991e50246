import { expect, it } from "vitest";
import { pickTemplate, projectNameFrom } from "./start-project.ts";

const ALL = ["node-api", "react-vite", "static"];

it("picks the template a prompt's words ask for, React + Vite otherwise", () => {
  expect(pickTemplate("a habit tracker with a streak counter", ALL)).toBe("react-vite");
  expect(pickTemplate("A REST API for my recipes", ALL)).toBe("node-api");
  expect(pickTemplate("a backend that stores notes", ALL)).toBe("node-api");
  expect(pickTemplate("a static landing page for my bakery", ALL)).toBe("static");
  expect(pickTemplate("one plain HTML page with my CV", ALL)).toBe("static");
  expect(pickTemplate("a React dashboard that calls an API", ALL)).toBe("react-vite");
  // Words inside other words do not count ("rapid" is no "api").
  expect(pickTemplate("a rapid serverless-free todo list", ALL)).toBe("react-vite");
  expect(pickTemplate("an api", ["react-vite", "static"])).toBe("react-vite");
  expect(pickTemplate("anything", ["static"])).toBe("static");
});

it("names the project after what the prompt asks for, without the details", () => {
  expect(projectNameFrom("a habit tracker with a streak counter")).toBe("Habit tracker");
  expect(projectNameFrom("Build me a todo list app that syncs")).toBe("Todo list app");
  expect(projectNameFrom("Please make a simple Pomodoro timer. It should beep.")).toBe("Pomodoro timer");
  expect(projectNameFrom("a website for my bakery in Lyon and its opening hours today")).toBe(
    "Website for my bakery in",
  );
  expect(projectNameFrom("  \n a\tweather\u0001app ")).toBe("Weather app");
  expect(projectNameFrom("!!!")).toBe("New project");
  expect(projectNameFrom("build a")).toBe("New project");
});
