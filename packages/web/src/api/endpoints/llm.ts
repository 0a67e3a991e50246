import type {
  CreateLlmProviderBody,
  LlmCallPage,
  LlmModelList,
  LlmPrice,
  LlmProvider,
  LlmSettings,
  LlmUsageGroupBy,
  LlmUsageReport,
  UpdateLlmProviderBody,
  UpdateLlmSettingsBody,
  UpsertLlmPriceBody,
} from "@kiln/protocol";
import { http } from "../client.ts";
import { e, type Ok, orgPath } from "./paths.ts";

export const llm = {
  models: (org: string) => http.get<LlmModelList>(`${orgPath(org)}/llm/models`),
  providers: (org: string) => http.get<LlmProvider[]>(`${orgPath(org)}/llm/providers`),
  createProvider: (org: string, body: CreateLlmProviderBody) =>
    http.post<LlmProvider>(`${orgPath(org)}/llm/providers`, body),
  updateProvider: (org: string, id: string, body: UpdateLlmProviderBody) =>
    http.patch<LlmProvider>(`${orgPath(org)}/llm/providers/${e(id)}`, body),
  removeProvider: (org: string, id: string) => http.delete<Ok>(`${orgPath(org)}/llm/providers/${e(id)}`),
  prices: (org: string) => http.get<LlmPrice[]>(`${orgPath(org)}/llm/prices`),
  setPrice: (org: string, body: UpsertLlmPriceBody) => http.put<LlmPrice>(`${orgPath(org)}/llm/prices`, body),
  removePrice: (org: string, id: string) => http.delete<Ok>(`${orgPath(org)}/llm/prices/${e(id)}`),
  settings: (org: string) => http.get<LlmSettings>(`${orgPath(org)}/llm/settings`),
  updateSettings: (org: string, body: UpdateLlmSettingsBody) =>
    http.patch<LlmSettings>(`${orgPath(org)}/llm/settings`, body),
  calls: (org: string, query: { chatId?: string; projectId?: string; before?: string; limit?: number }) =>
    http.get<LlmCallPage>(`${orgPath(org)}/llm/calls`, { query }),
  usage: (org: string, query: { from?: string; to?: string; groupBy: LlmUsageGroupBy }) =>
    http.get<LlmUsageReport>(`${orgPath(org)}/usage`, { query }),
};
