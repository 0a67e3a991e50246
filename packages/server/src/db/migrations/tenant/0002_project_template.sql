-- The template a project was created from; projects made before templates existed started empty.
ALTER TABLE projects ADD COLUMN template text NOT NULL DEFAULT 'react-vite';
