-- Every CSAT rating with the ticket's team, assignee and type when it was rated, and the bot path
-- of the conversation the ticket came from.
CREATE OR REPLACE VIEW csat_ratings AS
SELECT
  r.ticket_id,
  r.ticket_number,
  r.ticket_type_id,
  r.team_id,
  r.assignee_id,
  r.score,
  r.has_comment,
  r.occurred_at AS rated_at,
  COALESCE(t.channel, 'inbox') AS channel,
  t.bot_path_id AS path_id,
  r.dt
FROM csat_rated AS r
LEFT JOIN tickets AS t ON t.ticket_id = r.ticket_id
