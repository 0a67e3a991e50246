-- A task assigned to the agent may name which of the org's agents (ADR 0036); null: Kiln's built-in agent.
-- No foreign key: the built-in agent is not a row, and an archived agent stays a row.
ALTER TABLE tasks ADD COLUMN assignee_agent_id uuid;
