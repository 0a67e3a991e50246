import { useSuspenseQuery } from "@tanstack/react-query";
import { meQuery } from "../../api/queries.ts";

/** The signed-in user; only under routes whose guard already loaded it, so it never suspends there. */
export function useMe() {
  return useSuspenseQuery(meQuery).data;
}
