-- The tickets behind one SLA segment (:breakdown policy/team/agent, :segment, :outcome; '' for all).
SELECT ticket_id, ticket_number, ticket_type_id, team_id, assignee_id, clock, outcome, decided_at
FROM sla_outcomes
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
  AND (:segment = '' OR :segment = CASE :breakdown
    WHEN 'policy' THEN ticket_type_id
    WHEN 'team' THEN team_id
    ELSE COALESCE(assignee_id, '(unassigned)')
  END)
  AND (:outcome = '' OR outcome = :outcome)
ORDER BY decided_at, ticket_number, clock
