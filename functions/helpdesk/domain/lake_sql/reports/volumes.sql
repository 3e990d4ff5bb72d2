-- Conversations and tickets by channel, team and ticket type.
SELECT
  kind,
  channel,
  team_id,
  COALESCE(ticket_type_id, '') AS ticket_type_id,
  count(*) AS count
FROM volume_facts
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
GROUP BY kind, channel, team_id, COALESCE(ticket_type_id, '')
ORDER BY kind, count DESC, channel, team_id, ticket_type_id
