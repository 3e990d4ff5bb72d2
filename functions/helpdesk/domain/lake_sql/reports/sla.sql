-- SLA clocks met and breached, by policy (the ticket type's SLA), team and agent.
WITH decided AS (
  SELECT ticket_type_id, team_id, COALESCE(assignee_id, '(unassigned)') AS agent, outcome
  FROM sla_outcomes
  WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
),
segments AS (
  SELECT 'policy' AS breakdown, ticket_type_id AS segment, outcome FROM decided
  UNION ALL
  SELECT 'team' AS breakdown, team_id AS segment, outcome FROM decided
  UNION ALL
  SELECT 'agent' AS breakdown, agent AS segment, outcome FROM decided
)
SELECT
  breakdown,
  segment,
  count_if(outcome = 'met') AS met,
  count_if(outcome = 'breached') AS breached,
  100.0 * count_if(outcome = 'met') / count(*) AS met_pct
FROM segments
GROUP BY breakdown, segment
ORDER BY breakdown, segment
