-- The ratings behind one CSAT segment (:breakdown team/agent/type/path, :segment; '' for all).
SELECT ticket_id, ticket_number, ticket_type_id, team_id, assignee_id, path_id, score, rated_at
FROM csat_ratings
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
  AND (:segment = '' OR :segment = CASE :breakdown
    WHEN 'team' THEN team_id
    WHEN 'agent' THEN COALESCE(assignee_id, '(unassigned)')
    WHEN 'type' THEN ticket_type_id
    ELSE COALESCE(path_id, '(no bot path)')
  END)
ORDER BY rated_at, ticket_number
