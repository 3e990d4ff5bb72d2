-- Conversations started and tickets opened, one row each, on the day they happened.
CREATE OR REPLACE VIEW volume_facts AS
SELECT
  'conversation' AS kind,
  conversation_id AS item_id,
  CAST(NULL AS bigint) AS ticket_number,
  channel,
  team_id,
  CAST(NULL AS varchar) AS ticket_type_id,
  started_at AS occurred_at,
  dt
FROM conversations
UNION ALL
SELECT
  'ticket' AS kind,
  ticket_id AS item_id,
  ticket_number,
  channel,
  team_id,
  ticket_type_id,
  created_at AS occurred_at,
  dt
FROM tickets
