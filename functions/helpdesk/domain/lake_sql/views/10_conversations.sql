-- One row per conversation: where it came from and the team it started with.
CREATE OR REPLACE VIEW conversations AS
SELECT
  conversation_id,
  customer_id,
  channel,
  team_id,
  customer_is_visitor,
  occurred_at AS started_at,
  dt
FROM conversation_started
