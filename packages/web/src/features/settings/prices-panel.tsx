import type { LlmPrice } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useRemovePrice, useSetPrice } from "./mutations.ts";
import { Section } from "./section.tsx";

const SHOWN_BUILTIN = 8;

const usd = (n: number) => `$${n.toFixed(n < 1 ? 3 : 2)}`;

/** The price table cost estimates use: the org's own prices first, then the built-in list prices. */
export function PricesPanel({ org, manage }: { org: string; manage: boolean }) {
  const prices = useQuery({ queryKey: keys.llmPrices(org), queryFn: () => api.llm.prices(org) });
  const [all, setAll] = useState(false);
  const [form, setForm] = useState({ model: "", input: "", output: "", cached: "" });
  const setPrice = useSetPrice(org);
  const removePrice = useRemovePrice(org);

  const save = (e: FormEvent) => {
    e.preventDefault();
    setPrice.mutate(
      {
        model: form.model.trim(),
        inputPerMTok: Number(form.input),
        outputPerMTok: Number(form.output),
        ...(form.cached.trim() ? { cachedInputPerMTok: Number(form.cached) } : {}),
      },
      { onSuccess: () => setForm({ model: "", input: "", output: "", cached: "" }) },
    );
  };

  const edit = (p: LlmPrice) =>
    setForm({
      model: p.model,
      input: String(p.inputPerMTok),
      output: String(p.outputPerMTok),
      cached: p.cachedInputPerMTok === null ? "" : String(p.cachedInputPerMTok),
    });

  const remove = (p: LlmPrice) => {
    if (p.id) removePrice.mutate(p.id);
  };

  const body = () => {
    if (prices.isPending) return <LoadingBlock label="Loading prices" />;
    if (prices.isError)
      return <ErrorState message={describeError(prices.error)} onRetry={() => prices.refetch()} />;
    const own = prices.data.filter((p) => p.source === "org");
    const builtin = prices.data.filter((p) => p.source === "builtin");
    const rows = [...own, ...(all ? builtin : builtin.slice(0, SHOWN_BUILTIN))];
    return (
      <div className="overflow-hidden rounded-lg border border-line">
        <table className="w-full text-left text-[13px]">
          <thead className="bg-surface-2 text-xs text-neutral-400">
            <tr>
              <th className="px-3 py-2 font-medium">Model</th>
              <th className="px-3 py-2 text-right font-medium">Input</th>
              <th className="px-3 py-2 text-right font-medium">Cached input</th>
              <th className="px-3 py-2 text-right font-medium">Output</th>
              <th className="w-32 px-3 py-2" />
            </tr>
          </thead>
          <tbody className="font-mono text-xs">
            {rows.map((p) => (
              <tr key={`${p.source}:${p.model}`} className="border-t border-line">
                <td className="px-3 py-1.5 text-neutral-200">
                  {p.model}
                  {p.source === "org" && (
                    <span className="ml-2 rounded bg-accent-500/15 px-1 font-sans text-[10px] text-accent-400">
                      org price
                    </span>
                  )}
                </td>
                <td className="px-3 py-1.5 text-right text-neutral-300">{usd(p.inputPerMTok)}</td>
                <td className="px-3 py-1.5 text-right text-neutral-400">
                  {p.cachedInputPerMTok === null ? (
                    <span className="font-sans text-neutral-600">as input</span>
                  ) : (
                    usd(p.cachedInputPerMTok)
                  )}
                </td>
                <td className="px-3 py-1.5 text-right text-neutral-300">{usd(p.outputPerMTok)}</td>
                <td className="px-3 py-1.5 text-right font-sans whitespace-nowrap">
                  {manage && (
                    <Button size="xs" variant="ghost" onClick={() => edit(p)}>
                      {p.source === "org" ? "Edit" : "Override"}
                    </Button>
                  )}
                  {manage && p.id && (
                    <Button size="xs" variant="ghost" onClick={() => void remove(p)}>
                      Remove
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {builtin.length > SHOWN_BUILTIN && (
          <button
            type="button"
            onClick={() => setAll((a) => !a)}
            className="w-full border-t border-line py-1.5 text-xs text-neutral-400 hover:text-neutral-200"
          >
            {all ? "Show fewer" : `Show all ${builtin.length} built-in prices`}
          </button>
        )}
      </div>
    );
  };

  return (
    <Section
      title="Prices"
      description="US dollars per million tokens, for the cost estimates in chats and on the usage page. A bare model id applies to every provider."
    >
      {manage && (
        <form onSubmit={save} className="flex flex-wrap items-center gap-2" aria-label="Set a price">
          <Input
            aria-label="Model"
            placeholder="openai/gpt-4.1 or gpt-4.1"
            value={form.model}
            onChange={(e) => setForm({ ...form, model: e.target.value })}
            required
            className="w-auto min-w-48 flex-1 font-mono text-xs"
          />
          {(["input", "cached", "output"] as const).map((k) => (
            <Input
              key={k}
              aria-label={`${k === "cached" ? "Cached input" : k === "input" ? "Input" : "Output"} price`}
              placeholder={k === "cached" ? "cached $" : `${k} $`}
              inputMode="decimal"
              value={form[k]}
              onChange={(e) => setForm({ ...form, [k]: e.target.value })}
              required={k !== "cached"}
              pattern="[0-9]*[.]?[0-9]*"
              className="w-24 font-mono text-xs"
            />
          ))}
          <Button type="submit" loading={setPrice.isPending} disabled={!form.model.trim()}>
            Set price
          </Button>
        </form>
      )}
      {body()}
    </Section>
  );
}
