import type { PublicConfig } from "@kiln/protocol";
import { http } from "../client.ts";

export const config = () => http.get<PublicConfig>("/api/config");
