import { useState } from "react";

const features = [
  { title: "React 19", text: "Components and hooks, with Fast Refresh that keeps state while you edit." },
  { title: "Vite 8", text: "Instant dev server and optimized production builds." },
  { title: "Tailwind CSS 4", text: "Utility classes straight in your markup, no config file needed." },
];

export function App() {
  const [count, setCount] = useState(0);

  return (
    <main className="min-h-screen bg-gradient-to-b from-orange-50 to-white text-slate-900">
      <div className="mx-auto flex max-w-3xl flex-col items-center px-6 py-20 text-center">
        <span className="rounded-full bg-orange-100 px-3 py-1 text-sm font-medium text-orange-700">
          Built with Kiln
        </span>
        <h1 className="mt-6 text-5xl font-bold tracking-tight">Your app starts here</h1>
        <p className="mt-4 max-w-xl text-lg text-slate-600">
          Describe what you want to build and watch it take shape, or edit <code>src/App.tsx</code> yourself.
        </p>
        <button
          type="button"
          onClick={() => setCount((c) => c + 1)}
          className="mt-8 rounded-lg bg-orange-600 px-5 py-2.5 font-semibold text-white shadow-sm transition hover:bg-orange-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-orange-400 focus-visible:ring-offset-2"
        >
          Clicked {count} {count === 1 ? "time" : "times"}
        </button>
        <ul className="mt-16 grid w-full gap-4 text-left sm:grid-cols-3">
          {features.map((f) => (
            <li key={f.title} className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
              <h2 className="font-semibold">{f.title}</h2>
              <p className="mt-1 text-sm text-slate-600">{f.text}</p>
            </li>
          ))}
        </ul>
      </div>
    </main>
  );
}
