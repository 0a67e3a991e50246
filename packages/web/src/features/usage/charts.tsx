import { cn } from "../../ui/cn.ts";

export interface Bar {
  key: string;
  label: string;
  /** Stacked segments, bottom first. */
  values: number[];
  title: string;
  /** A line under the label (calls and tokens). */
  detail?: string;
  /** The value as shown, when the formatted total would not say it (a cost that is unknown). */
  shown?: string;
}

export interface Series {
  label: string;
  className: string;
}

const CHART_HEIGHT = 160;

/**
 * Vertical stacked bars on a time axis, drawn with plain elements (no chart library): one column per
 * bar, a label under every `labelEvery`th.
 */
export function ColumnChart({
  bars,
  series,
  format,
  labelEvery = 1,
  label,
}: {
  bars: Bar[];
  series: Series[];
  format: (n: number) => string;
  labelEvery?: number;
  label: string;
}) {
  const max = Math.max(0, ...bars.map((b) => b.values.reduce((a, v) => a + v, 0)));
  const ticks = max > 0 ? [max, max / 2] : [];
  return (
    <figure aria-label={label} className="flex flex-col gap-2">
      <div className="relative flex gap-2">
        <div
          className="relative w-14 shrink-0 text-right text-[10px] text-neutral-500"
          style={{ height: CHART_HEIGHT }}
        >
          {ticks.map((t) => (
            <span
              key={t}
              className="absolute right-0 -translate-y-1/2"
              style={{ top: `${100 - (t / max) * 100}%` }}
            >
              {format(t)}
            </span>
          ))}
          <span className="absolute right-0 bottom-0 translate-y-1/2">0</span>
        </div>
        <div className="relative flex-1">
          <div className="absolute inset-x-0 top-0 border-t border-dashed border-line/70" />
          <div className="absolute inset-x-0 top-1/2 border-t border-dashed border-line/70" />
          <ol
            className="relative flex items-end gap-[2px] border-b border-line"
            style={{ height: CHART_HEIGHT }}
          >
            {bars.map((b) => {
              const total = b.values.reduce((a, v) => a + v, 0);
              return (
                <li
                  key={b.key}
                  title={b.title}
                  className="group flex h-full min-w-0 flex-1 flex-col-reverse"
                  data-value={total}
                >
                  {b.values.map((v, i) => (
                    <span
                      key={series[i]?.label ?? i}
                      className={cn(
                        "w-full group-hover:brightness-125",
                        series[i]?.className,
                        i === b.values.length - 1 && "rounded-t-[2px]",
                      )}
                      style={{ height: max > 0 ? `${(v / max) * 100}%` : 0 }}
                    />
                  ))}
                </li>
              );
            })}
          </ol>
          <div className="mt-1 flex gap-[2px] text-[10px] text-neutral-500">
            {bars.map((b, i) => (
              <span key={b.key} className="min-w-0 flex-1 overflow-visible text-center whitespace-nowrap">
                {i % labelEvery === 0 ? b.label : ""}
              </span>
            ))}
          </div>
        </div>
      </div>
      <Legend series={series} />
    </figure>
  );
}

/** Horizontal stacked bars, one row per named thing (a model, a project), largest first. */
export function RowChart({
  bars,
  series,
  format,
  label,
  empty,
}: {
  bars: Bar[];
  series: Series[];
  format: (n: number) => string;
  label: string;
  empty: string;
}) {
  const max = Math.max(0, ...bars.map((b) => b.values.reduce((a, v) => a + v, 0)));
  if (bars.length === 0) return <p className="py-6 text-center text-xs text-neutral-500">{empty}</p>;
  return (
    <figure aria-label={label} className="flex flex-col gap-2">
      <ul className="flex flex-col gap-1.5">
        {bars.map((b) => {
          const total = b.values.reduce((a, v) => a + v, 0);
          return (
            <li
              key={b.key}
              title={b.title}
              className="grid grid-cols-[minmax(0,11rem)_1fr_minmax(4.5rem,auto)] items-center gap-3"
            >
              <span className="flex min-w-0 flex-col">
                <span className="truncate font-mono text-xs text-neutral-300">{b.label}</span>
                {b.detail && <span className="truncate text-[10px] text-neutral-500">{b.detail}</span>}
              </span>
              <span className="flex h-3.5 overflow-hidden rounded-sm bg-tint/4">
                {b.values.map((v, i) => (
                  <span
                    key={series[i]?.label ?? i}
                    className={series[i]?.className}
                    style={{ width: max > 0 ? `${(v / max) * 100}%` : 0 }}
                  />
                ))}
              </span>
              <span className="text-right font-mono text-xs text-neutral-400">
                {b.shown ?? format(total)}
              </span>
            </li>
          );
        })}
      </ul>
      {series.length > 1 && <Legend series={series} />}
    </figure>
  );
}

function Legend({ series }: { series: Series[] }) {
  return (
    <div className="flex gap-4 text-[11px] text-neutral-500">
      {series.map((s) => (
        <span key={s.label} className="flex items-center gap-1.5">
          <span className={cn("size-2 rounded-sm", s.className)} />
          {s.label}
        </span>
      ))}
    </div>
  );
}
