-- Median first response and resolution per team, in business seconds (the SLA clocks' time).
WITH times AS (
  SELECT team_id, clock, elapsed_seconds AS seconds,
         row_number() OVER (PARTITION BY team_id, clock ORDER BY elapsed_seconds) AS position,
         count(*) OVER (PARTITION BY team_id, clock) AS total
  FROM sla_clock_facts
  WHERE clock IN ('first_response', 'resolution') AND fulfilled AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
)
SELECT
  team_id,
  count_if(clock = 'first_response') AS first_responses,
  avg(CASE WHEN clock = 'first_response' AND position IN (floor((total + 1) / 2.0), ceil((total + 1) / 2.0))
      THEN CAST(seconds AS double) END) AS median_first_response_seconds,
  count_if(clock = 'resolution') AS resolutions,
  avg(CASE WHEN clock = 'resolution' AND position IN (floor((total + 1) / 2.0), ceil((total + 1) / 2.0))
      THEN CAST(seconds AS double) END) AS median_resolution_seconds
FROM times
GROUP BY team_id
ORDER BY team_id
