import { Button } from "../../ui/button.tsx";

export const PAGE = 50;

/** "1–50 of 120" with previous and next. */
export function Pager({
  offset,
  total,
  onChange,
}: {
  offset: number;
  total: number;
  onChange: (o: number) => void;
}) {
  if (total <= PAGE)
    return <p className="text-xs text-neutral-500">{total === 1 ? "1 in all" : `${total} in all`}</p>;
  return (
    <div className="flex items-center gap-2 text-xs text-neutral-500">
      <span>
        {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
      </span>
      <Button size="xs" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - PAGE))}>
        Previous
      </Button>
      <Button size="xs" disabled={offset + PAGE >= total} onClick={() => onChange(offset + PAGE)}>
        Next
      </Button>
    </div>
  );
}
