const root = document.documentElement;
const button = document.getElementById("theme");
const clock = document.getElementById("clock");

function applyTheme(theme) {
  root.dataset.theme = theme;
  button.textContent = theme === "dark" ? "Switch to light" : "Switch to dark";
  localStorage.setItem("theme", theme);
}

applyTheme(localStorage.getItem("theme") ?? "light");
button.addEventListener("click", () => applyTheme(root.dataset.theme === "dark" ? "light" : "dark"));

function tick() {
  clock.textContent = new Date().toLocaleTimeString();
}
tick();
setInterval(tick, 1000);
