-- Conversations started and tickets opened per day (UTC) and channel.
SELECT
  dt AS day,
  channel,
  count_if(kind = 'conversation') AS conversations,
  count_if(kind = 'ticket') AS tickets
FROM volume_facts
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
GROUP BY dt, channel
ORDER BY day, channel
