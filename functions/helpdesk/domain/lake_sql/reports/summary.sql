-- The headline figures of a range: volumes, median first response and resolution (business
-- seconds), SLA met and breached, CSAT, and the bot's resolution rate.
WITH
volumes AS (
  SELECT count_if(kind = 'conversation') AS conversations, count_if(kind = 'ticket') AS tickets
  FROM volume_facts
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
first_responses AS (
  SELECT elapsed_seconds AS seconds,
         row_number() OVER (ORDER BY elapsed_seconds) AS position,
         count(*) OVER () AS total
  FROM sla_clock_facts
  WHERE clock = 'first_response' AND fulfilled AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
resolutions AS (
  SELECT elapsed_seconds AS seconds,
         row_number() OVER (ORDER BY elapsed_seconds) AS position,
         count(*) OVER () AS total
  FROM sla_clock_facts
  WHERE clock = 'resolution' AND fulfilled AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
sla AS (
  SELECT count_if(outcome = 'met') AS met, count_if(outcome = 'breached') AS breached
  FROM sla_outcomes
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
csat AS (
  SELECT count(*) AS ratings, avg(CAST(score AS double)) AS average
  FROM csat_ratings
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
bot AS (
  SELECT count(*) AS ended, count_if(resolved) AS resolved
  FROM bot_outcomes
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
)
SELECT
  v.conversations,
  v.tickets,
  (SELECT count(*) FROM first_responses) AS first_responses,
  (SELECT avg(CAST(seconds AS double)) FROM first_responses
    WHERE position IN (floor((total + 1) / 2.0), ceil((total + 1) / 2.0))) AS median_first_response_seconds,
  (SELECT count(*) FROM resolutions) AS resolutions,
  (SELECT avg(CAST(seconds AS double)) FROM resolutions
    WHERE position IN (floor((total + 1) / 2.0), ceil((total + 1) / 2.0))) AS median_resolution_seconds,
  s.met AS sla_met,
  s.breached AS sla_breached,
  CASE WHEN s.met + s.breached > 0 THEN 100.0 * s.met / (s.met + s.breached) END AS sla_met_pct,
  c.ratings AS csat_ratings,
  c.average AS csat_average,
  b.ended AS bot_conversations,
  b.resolved AS bot_resolved,
  CASE WHEN b.ended > 0 THEN 100.0 * b.resolved / b.ended END AS bot_resolution_pct
FROM volumes AS v
CROSS JOIN sla AS s
CROSS JOIN csat AS c
CROSS JOIN bot AS b
