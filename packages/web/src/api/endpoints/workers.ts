import type { CreatedWorkerToken, CreateWorkerTokenBody, Worker, WorkerToken } from "@kiln/protocol";
import { http } from "../client.ts";
import { e, type Ok, orgPath } from "./paths.ts";

export const workers = {
  list: (org: string) => http.get<Worker[]>(`${orgPath(org)}/workers`),
  tokens: (org: string) => http.get<WorkerToken[]>(`${orgPath(org)}/workers/tokens`),
  createToken: (org: string, body: CreateWorkerTokenBody) =>
    http.post<CreatedWorkerToken>(`${orgPath(org)}/workers/tokens`, body),
  revokeToken: (org: string, tokenId: string) =>
    http.delete<Ok>(`${orgPath(org)}/workers/tokens/${e(tokenId)}`),
};
