import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

export const templates = () => call(routes.templates.list, {});
