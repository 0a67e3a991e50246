import type { Template } from "@kiln/protocol";
import { http } from "../client.ts";

export const templates = () => http.get<Template[]>("/api/templates");
