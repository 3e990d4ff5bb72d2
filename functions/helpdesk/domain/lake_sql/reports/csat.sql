-- CSAT by team, agent, ticket type and bot path: ratings, average score, share rated 4 or 5.
WITH rated AS (
  SELECT team_id, COALESCE(assignee_id, '(unassigned)') AS agent, ticket_type_id,
         COALESCE(path_id, '(no bot path)') AS path, score
  FROM csat_ratings
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
segments AS (
  SELECT 'team' AS breakdown, team_id AS segment, score FROM rated
  UNION ALL
  SELECT 'agent' AS breakdown, agent AS segment, score FROM rated
  UNION ALL
  SELECT 'type' AS breakdown, ticket_type_id AS segment, score FROM rated
  UNION ALL
  SELECT 'path' AS breakdown, path AS segment, score FROM rated
)
SELECT
  breakdown,
  segment,
  count(*) AS ratings,
  avg(CAST(score AS double)) AS average_score,
  100.0 * count_if(score >= 4) / count(*) AS satisfied_pct
FROM segments
GROUP BY breakdown, segment
ORDER BY breakdown, segment
