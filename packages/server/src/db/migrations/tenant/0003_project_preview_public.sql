-- Previews are private to org members unless the project opts in to a public preview.
ALTER TABLE projects ADD COLUMN preview_public boolean NOT NULL DEFAULT false;
