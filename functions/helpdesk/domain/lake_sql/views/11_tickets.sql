-- One row per ticket: its type and team at creation, the channel of the conversation it came from
-- ('inbox' when an agent opened it directly) and the bot path that conversation ended on.
CREATE OR REPLACE VIEW tickets AS
SELECT
  t.ticket_id,
  t.ticket_number,
  t.ticket_type_id,
  t.category,
  t.team_id,
  t.customer_id,
  t.conversation_id,
  t.created_by_type,
  t.occurred_at AS created_at,
  COALESCE(c.channel, 'inbox') AS channel,
  b.path_id AS bot_path_id,
  t.dt
FROM ticket_created AS t
LEFT JOIN conversation_started AS c ON c.conversation_id = t.conversation_id
LEFT JOIN bot_conversation_ended AS b ON b.conversation_id = t.conversation_id
