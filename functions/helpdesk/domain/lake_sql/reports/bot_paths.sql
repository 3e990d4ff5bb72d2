-- The bot's outcomes by the path and step each conversation ended on.
SELECT
  COALESCE(path_id, '(no path)') AS path_id,
  COALESCE(step_id, '') AS step_id,
  count(*) AS conversations,
  count_if(outcome = 'resolved') AS resolved,
  count_if(outcome = 'handed_off') AS handed_off,
  count_if(outcome = 'ticket_created') AS tickets_created,
  100.0 * count_if(outcome = 'resolved') / count(*) AS resolution_pct
FROM bot_outcomes
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
GROUP BY COALESCE(path_id, '(no path)'), COALESCE(step_id, '')
ORDER BY path_id, step_id
