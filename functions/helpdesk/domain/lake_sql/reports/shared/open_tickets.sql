-- Shared by the backlog and the tickets behind it (a query's "-- with: open_tickets" line after its WITH):
-- the tickets still open at the end of the range (:as_of) as they were then, in the team and channel
-- asked for, with how long they had been open (hours) and their age bucket.
latest AS (
  SELECT
    ticket_id,
    max_by(category, changed_at) AS category,
    max_by(team_id, changed_at) AS team_id
  FROM ticket_states
  WHERE dt <= :to_day AND changed_at <= from_iso8601_timestamp(:as_of)
  GROUP BY ticket_id
),
open_ages AS (
  SELECT
    t.ticket_id, t.ticket_number, l.team_id, t.channel, t.ticket_type_id, t.created_at,
    date_diff('hour', t.created_at, from_iso8601_timestamp(:as_of)) AS age_hours
  FROM tickets AS t
  JOIN latest AS l ON l.ticket_id = t.ticket_id
  WHERE t.dt <= :to_day
    AND l.category <> 'resolved'
    AND (:team_id = '' OR l.team_id = :team_id)
    AND (:channel = '' OR t.channel = :channel)
),
open_tickets AS (
  SELECT
    open_ages.*,
    CASE
      WHEN age_hours < 24 THEN 'under 1 day'
      WHEN age_hours < 72 THEN '1-3 days'
      WHEN age_hours < 168 THEN '3-7 days'
      ELSE 'over 7 days'
    END AS age_bucket
  FROM open_ages
)
