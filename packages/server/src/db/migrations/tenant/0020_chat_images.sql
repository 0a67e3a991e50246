-- Images a person attached to a chat (ADR 0041): the bytes, checked by their magic bytes, kept per chat and
-- gone with it. A user message's image part names one by id; the model is sent the bytes at each turn.
CREATE TABLE chat_images (
  id uuid PRIMARY KEY,
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  media_type text NOT NULL,
  size integer NOT NULL,
  data bytea NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX chat_images_chat_idx ON chat_images (chat_id);
