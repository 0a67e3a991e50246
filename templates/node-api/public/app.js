const list = document.getElementById("todos");
const form = document.getElementById("add");
const input = document.getElementById("title");

async function api(path, init) {
  const res = await fetch(path, { ...init, headers: { "content-type": "application/json" } });
  if (!res.ok && res.status !== 204) throw new Error((await res.json()).error.message);
  return res.status === 204 ? undefined : res.json();
}

function render(todos) {
  list.replaceChildren(
    ...todos.map((todo) => {
      const li = document.createElement("li");
      li.className = todo.done ? "done" : "";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = todo.done;
      box.setAttribute("aria-label", `Done: ${todo.title}`);
      box.addEventListener("change", async () => {
        await api(`/api/todos/${todo.id}`, { method: "PATCH", body: JSON.stringify({ done: box.checked }) });
        await refresh();
      });
      const text = document.createElement("span");
      text.textContent = todo.title;
      li.append(box, text);
      return li;
    }),
  );
}

async function refresh() {
  render(await api("/api/todos"));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  await api("/api/todos", { method: "POST", body: JSON.stringify({ title: input.value }) });
  input.value = "";
  await refresh();
});

api("/api/hello?name=Kiln").then((r) => {
  document.getElementById("hello").textContent = r.message;
});
refresh();
