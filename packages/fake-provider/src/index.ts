export {
  buildCounterApp,
  COUNTER_APP_SUMMARY,
  COUNTER_IMPORT,
  COUNTER_PATH,
  COUNTER_SOURCE,
} from "./build-counter-app.ts";
export { buildHabitTracker, HABIT_TRACKER_SUMMARY } from "./build-habit-tracker.ts";
export {
  type ConversationMessage,
  type ConversationToolCall,
  type ConversationToolResult,
  currentTurn,
  lastUserText,
  readConversation,
} from "./conversation.ts";
export { scenarioResponder, scenarios } from "./scenarios.ts";
export { startFakeProvider } from "./server.ts";
export type {
  Api,
  CutReply,
  ErrorReply,
  FakeProvider,
  FakeProviderOptions,
  FakeToolCall,
  FakeUsage,
  HangReply,
  RecordedRequest,
  RepeatReply,
  Reply,
  Responder,
  StallReply,
  StreamErrorReply,
  TextReply,
  ToolCallReply,
} from "./types.ts";
