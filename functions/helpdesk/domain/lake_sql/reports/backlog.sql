-- Tickets still open at the end of the range (:as_of), by how long they had been open then.
WITH latest AS (
  SELECT
    ticket_id,
    max_by(category, changed_at) AS category,
    max_by(team_id, changed_at) AS team_id
  FROM ticket_states
  WHERE dt <= :to_day AND changed_at <= from_iso8601_timestamp(:as_of)
  GROUP BY ticket_id
),
open_tickets AS (
  SELECT date_diff('hour', t.created_at, from_iso8601_timestamp(:as_of)) AS age_hours
  FROM tickets AS t
  JOIN latest AS l ON l.ticket_id = t.ticket_id
  WHERE t.dt <= :to_day
    AND l.category <> 'resolved'
    AND (:team_id = '' OR l.team_id = :team_id)
    AND (:channel = '' OR t.channel = :channel)
),
bucketed AS (
  SELECT CASE
    WHEN age_hours < 24 THEN 'under 1 day'
    WHEN age_hours < 72 THEN '1-3 days'
    WHEN age_hours < 168 THEN '3-7 days'
    ELSE 'over 7 days'
  END AS age_bucket
  FROM open_tickets
)
SELECT age_bucket, count(*) AS open_tickets
FROM bucketed
GROUP BY age_bucket
ORDER BY min(CASE age_bucket WHEN 'under 1 day' THEN 1 WHEN '1-3 days' THEN 2 WHEN '3-7 days' THEN 3 ELSE 4 END)
