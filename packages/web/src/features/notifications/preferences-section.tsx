import {
  NOTIFICATION_CHANNELS,
  NOTIFICATION_KINDS,
  type NotificationChannel,
  type NotificationKind,
  type NotificationPreference,
} from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useHeldValues } from "../../ui/use-held-values.ts";

const KEY = keys.notificationPreferences;

const KIND_LABELS: Record<NotificationKind, string> = {
  task_assigned: "A task is assigned to you",
  job_finished: "Your job finished or failed",
  review_waiting: "A review is waiting for you",
  mention: "You are mentioned in a comment",
  deployment_finished: "Your deployment finished",
  member_joined: "Someone joined your org (admins)",
};
const CHANNEL_LABELS: Record<NotificationChannel, string> = { in_app: "In app", email: "Email" };

/** Which kinds of notification reach you in the studio and by mail: a kind × channel table of switches. */
export function NotificationPreferencesSection() {
  const client = useQueryClient();
  const prefs = useQuery({ queryKey: KEY, queryFn: api.notifications.preferences });
  // A switch follows the click at once, until the server's answer replaces it or a failure refetches the truth.
  const held = useHeldValues<boolean>();
  const save = useMutation({
    mutationFn: (p: NotificationPreference) => api.notifications.updatePreferences({ preferences: [p] }),
    onMutate: () => client.cancelQueries({ queryKey: KEY }),
    onSuccess: (next) => client.setQueryData(KEY, next),
    onError: () => void client.invalidateQueries({ queryKey: KEY }),
  });
  const toggle = (p: NotificationPreference) =>
    held.hold(`${p.kind}:${p.channel}`, p.enabled, save.mutateAsync(p));
  if (prefs.isPending) return <LoadingBlock label="Loading notification preferences" />;
  if (prefs.isError)
    return <ErrorState message={describeError(prefs.error)} onRetry={() => prefs.refetch()} />;
  const enabled = (kind: NotificationKind, channel: NotificationChannel) =>
    held.get(`${kind}:${channel}`) ??
    prefs.data.find((p) => p.kind === kind && p.channel === channel)?.enabled ??
    false;
  return (
    <div className="flex flex-col gap-2">
      <table className="w-full text-[13px]">
        <thead>
          <tr className="text-left text-neutral-500">
            <th className="py-1.5 font-normal">Notify me when</th>
            {NOTIFICATION_CHANNELS.map((c) => (
              <th key={c} className="w-20 py-1.5 text-center font-normal">
                {CHANNEL_LABELS[c]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="divide-y divide-line">
          {NOTIFICATION_KINDS.map((kind) => (
            <tr key={kind}>
              <td className="py-2 text-neutral-200">{KIND_LABELS[kind]}</td>
              {NOTIFICATION_CHANNELS.map((channel) => (
                <td key={channel} className="text-center">
                  <input
                    type="checkbox"
                    aria-label={`${KIND_LABELS[kind]}: ${CHANNEL_LABELS[channel]}`}
                    checked={enabled(kind, channel)}
                    onChange={(e) => toggle({ kind, channel, enabled: e.target.checked })}
                    className="size-4 accent-accent-500"
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {save.isError && <p className="text-[12px] text-red-400">{describeError(save.error)}</p>}
    </div>
  );
}
