import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

export const config = () => call(routes.ops.config, {});
